package config

import "testing"

func TestDefaultsListenAddr(t *testing.T) {
	def := Config{HTTPAddr: DefaultHTTPAddr}
	custom := Config{HTTPAddr: "0.0.0.0:9000"}
	for _, tc := range []struct {
		name      string
		cfg       Config
		flagGiven bool
		domains   []string
		want      bool
	}{
		{"no flag, no domains: HEARTH_HTTP or its default", def, false, nil, true},
		{"--http given", custom, true, nil, false},
		{"domains, no HEARTH_HTTP: PocketBase's TLS defaults", def, false, []string{"crews.example"}, false},
		{"domains and HEARTH_HTTP: the variable", custom, false, []string{"crews.example"}, true},
	} {
		if got := defaultsListenAddr(tc.cfg, tc.flagGiven, tc.domains); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
