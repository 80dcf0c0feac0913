package tokens

import "testing"

// TestHash pins the vocabulary hash: checkpoints on disk record it, so a
// change of the function would refuse every one of them. The expected
// values are SHA-256 over length-prefixed tokens computed independently
// (Python's hashlib and struct.pack(">Q", len)).
func TestHash(t *testing.T) {
	for _, tc := range []struct {
		toks []string
		want string
	}{
		{[]string{UnknownToken, SentenceStart, SentenceEnd, "the"}, "cca92ec74635f8fd3bfeb32d0e0ddc352e5036c6208208daf736ea50edca6b24"},
		{[]string{"ab", "c"}, "601d5476e2ccfe2c87a2bba7a322659734a05749d5b5aa781f513e4912db0d5f"},
		{[]string{"a", "bc"}, "3fafa1cf2f19a7c1129beb20cf0983f73a489a221fc0dd2f16d1be292d089205"},
	} {
		if got := Hash(tc.toks); got != tc.want {
			t.Errorf("Hash(%q) = %s, want %s", tc.toks, got, tc.want)
		}
	}
}
