package livestat

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A decoded row encodes back to the JSON the API sent.
func TestNuoyunRowRoundTrip(t *testing.T) {
	t.Parallel()
	var reply struct {
		Data struct {
			List []json.RawMessage `json:"list"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(fixture(t, "nuoyun_sample.json")), &reply))
	for _, raw := range reply.Data.List {
		var row UserDuration
		require.NoError(t, json.Unmarshal(raw, &row))
		back, err := json.Marshal(row)
		require.NoError(t, err)
		assert.JSONEq(t, string(raw), string(back))
	}
}

func TestNuoyunValueTypes(t *testing.T) {
	t.Parallel()
	t.Run("FlexInt", func(t *testing.T) {
		for in, want := range map[string]int64{`12`: 12, `"12"`: 12, `""`: 0, `null`: 0, `-3`: -3, `"9223372036854775807"`: 9223372036854775807} {
			var n FlexInt
			require.NoError(t, json.Unmarshal([]byte(in), &n), in)
			assert.Equal(t, FlexInt(want), n, in)
		}
		for _, in := range []string{`"12a"`, `1.5`, `"9223372036854775808"`, `true`, `"-"`} {
			var n FlexInt
			assert.Error(t, json.Unmarshal([]byte(in), &n), in)
		}
	})
	t.Run("ChinaTime", func(t *testing.T) {
		var ct ChinaTime
		require.NoError(t, json.Unmarshal([]byte(`"2025-10-28 11:36:03"`), &ct))
		assert.Equal(t, time.Date(2025, 10, 28, 3, 36, 3, 0, time.UTC), ct.UTC())
		b, err := json.Marshal(ChinaTime{time.Date(2025, 10, 28, 3, 36, 3, 0, time.UTC)})
		require.NoError(t, err)
		assert.Equal(t, `"2025-10-28 11:36:03"`, string(b), "encodes in UTC+8 whatever the zone")
		b, err = json.Marshal(ChinaTime{})
		require.NoError(t, err)
		assert.Equal(t, `""`, string(b))
		for _, in := range []string{`"2025-10-28T11:36:03Z"`, `1700000000`, `"yesterday"`} {
			assert.Error(t, json.Unmarshal([]byte(in), &ct), in)
		}
	})
	t.Run("Device", func(t *testing.T) {
		var zero Device
		assert.Equal(t, DeviceUnknown, zero.Type(), "the zero Device is unknown, not pc")
		assert.Equal(t, DeviceIOS, deviceOf(DeviceIOS).Type())
		assert.Equal(t, "ios", deviceOf(DeviceIOS).String())
		b, err := json.Marshal(deviceOf(DeviceAndroid))
		require.NoError(t, err)
		assert.Equal(t, `1`, string(b))
	})
}
