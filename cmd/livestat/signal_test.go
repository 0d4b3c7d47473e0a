//go:build unix

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A signal in the middle of an --out export: the binary exits 130
// (SIGINT), 143 (SIGTERM) or 129 (SIGHUP, a closed terminal), FILE is as it
// was and no temporary file remains.
func TestSignalsStopTheBinary(t *testing.T) {
	bin := buildCLI(t)
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{
		{syscall.SIGINT, 130},
		{syscall.SIGTERM, 143},
		{syscall.SIGHUP, 129},
	} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			srv := newServer(t, livestattest.Options{PageSize: 2, Living: map[string][]livestat.LivingViewer{"L": livestattest.GenerateViewers(10, 1)}})
			second := make(chan struct{}, 1)
			srv.Fail(livestattest.Fault{Endpoint: livestat.EndpointWatchStat, Delay: time.Minute, When: secondPage(second)})
			dir := t.TempDir()
			out := filepath.Join(dir, "w.xlsx")
			require.NoError(t, os.WriteFile(out, []byte("before\n"), 0o644))

			cmd := exec.Command(bin, "wecom-watch", "--living-id", "L", "--out", out, "--format", "csv")
			cmd.Env = append(os.Environ(), "WECOM_CORP_ID="+srv.CorpID(), "WECOM_CORP_SECRET="+srv.CorpSecret(), "WECOM_BASE_URL="+srv.URL())
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			select {
			case <-second: // the first page's rows are in the temporary file
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatal("the second page was never asked for")
			}
			tmp, _ := filepath.Glob(filepath.Join(dir, ".w.xlsx.*.tmp"))
			require.Len(t, tmp, 1)
			fi, err := os.Stat(tmp[0])
			require.NoError(t, err)
			assert.Positive(t, fi.Size(), "rows of the first page")

			require.NoError(t, cmd.Process.Signal(tc.sig))
			err = cmd.Wait()
			ee, ok := err.(*exec.ExitError)
			require.True(t, ok, "%v", err)
			assert.Equal(t, tc.code, ee.ExitCode(), "exited, not killed by the signal: %s", stderr.String())
			assert.Contains(t, stderr.String(), "livestat wecom-watch: interrupted; "+out+" was not written")
			b, err := os.ReadFile(out)
			require.NoError(t, err)
			assert.Equal(t, "before\n", string(b))
			assertOnlyFiles(t, dir, "w.xlsx")
		})
	}
}
