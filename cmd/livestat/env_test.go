package main

import (
	"testing"

	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
)

// A bad base URL in the environment is a usage error that names the
// variable (not a Go option), and only the command's own vendor's URL is
// checked.
func TestBaseURLErrorsNameTheVariable(t *testing.T) {
	srv := nuoyunServer(t, livestattest.GenerateDurations(3, 1))
	srv.SetLiving("L", livestattest.GenerateViewers(3, 1))
	const off = "http://example.com"
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string // in stderr
	}{
		{"wecom, http off loopback", []string{"wecom-watch", "--living-id", "L"}, map[string]string{"WECOM_BASE_URL": off}, 2,
			`livestat wecom-watch: WECOM_BASE_URL: http:// is allowed only on loopback hosts, got "example.com"`},
		{"wecom, not a base URL", []string{"wecom-school-watch", "--living-id", "L"}, map[string]string{"WECOM_BASE_URL": "https://qyapi.example.com/cgi-bin"}, 2,
			`WECOM_BASE_URL: want scheme://host[:port]`},
		{"nuoyun, http off loopback", []string{"nuoyun-durations", "--user-space-id", "34043700"}, map[string]string{"NUOYUN_BASE_URL": off}, 2,
			`livestat nuoyun-durations: NUOYUN_BASE_URL: http:// is allowed only on loopback hosts, got "example.com"`},
		{"nuoyun, bad scheme", []string{"nuoyun-durations", "--user-space-id", "34043700"}, map[string]string{"NUOYUN_BASE_URL": "ftp://gw.example.com"}, 2,
			`NUOYUN_BASE_URL: unsupported scheme "ftp"`},
		{"a bad Nuoyun URL does not stop wecom-watch", []string{"wecom-watch", "--living-id", "L"}, map[string]string{"NUOYUN_BASE_URL": off}, 0, ""},
		{"a bad WeCom URL does not stop nuoyun-durations", []string{"nuoyun-durations", "--user-space-id", "34043700"}, map[string]string{"WECOM_BASE_URL": off}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := nuoyunCLI(t, srv)
			for k, v := range tc.env {
				c.env[k] = v
			}
			before := srv.TotalCalls()
			r := c.run(tc.args...)
			assert.Equal(t, tc.code, r.code, r.stderr)
			if tc.code == 0 {
				assert.Empty(t, r.stderr)
				assert.NotEmpty(t, r.stdout)
				return
			}
			assert.Contains(t, r.stderr, tc.want)
			assert.NotContains(t, r.stderr, "With", "no Go option names")
			assert.Contains(t, r.stderr, "Usage:")
			assert.Empty(t, r.stdout)
			assert.Equal(t, before, srv.TotalCalls(), "no request sent")
		})
	}
}
