package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Each engine shows in /readyz and has its gauges in /metrics, read at
// each request.
func TestEnginesReported(t *testing.T) {
	engines := []EngineState{
		{Name: "unix:///var/run/docker.sock", Healthy: true, Capacity: 2, Running: 1, PoolWaiting: 1},
		{Name: "tcp://10.0.0.2:2376", Healthy: false, Capacity: 3},
	}
	srv := New(Config{Engines: func() []EngineState { return engines }})
	m := NewMetrics(nil)
	m.Engines(func() []EngineState { return engines })
	m.Mount(srv)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	status, body := opsGet(t, ts.URL+"/readyz")
	if status != http.StatusOK {
		t.Fatalf("readyz: %d %s", status, body)
	}
	var ready struct {
		Status  string        `json:"status"`
		Engines []EngineState `json:"engines"`
	}
	if err := json.Unmarshal([]byte(body), &ready); err != nil {
		t.Fatalf("readyz %s: %v", body, err)
	}
	if ready.Status != "ready" || len(ready.Engines) != 2 || ready.Engines[0] != engines[0] || ready.Engines[1] != engines[1] {
		t.Errorf("readyz %+v, want ready with %+v", ready, engines)
	}

	engines[1].Healthy, engines[1].Running = true, 2
	_, body = opsGet(t, ts.URL+PathMetrics)
	for _, want := range []string{
		`djgrade_engine_up{engine="unix:///var/run/docker.sock"} 1`,
		`djgrade_engine_up{engine="tcp://10.0.0.2:2376"} 1`,
		`djgrade_engine_capacity{engine="tcp://10.0.0.2:2376"} 3`,
		`djgrade_engine_running{engine="tcp://10.0.0.2:2376"} 2`,
		`djgrade_engine_running{engine="unix:///var/run/docker.sock"} 1`,
		`djgrade_engine_pool_waiting{engine="unix:///var/run/docker.sock"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
