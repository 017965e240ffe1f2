package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/djgrade/djgrade/grader"
)

// PathMetrics is where Metrics serves the Prometheus text exposition.
const PathMetrics = "/metrics"

// Metrics are djgrade's Prometheus metrics: the queue, gradings (fed by the
// grading service's events) and HTTP requests. Each Metrics has its own
// registry, so that tests and several servers in one process do not collide.
type Metrics struct {
	reg             *prometheus.Registry
	gradingDuration *prometheus.HistogramVec
	verdicts        *prometheus.CounterVec
	sandboxFailures prometheus.Counter
	interrupted     prometheus.Counter
	httpDuration    *prometheus.HistogramVec
}

// QueueCounter counts submissions by status (implemented by *bolt.Store).
type QueueCounter interface {
	Count(ctx context.Context, st grader.Status) (int, error)
}

// NewMetrics returns the metrics, with queue gauges read from queue at each
// scrape (nil leaves them out).
func NewMetrics(queue QueueCounter) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.gradingDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "djgrade_grading_duration_seconds",
		Help: "Time from a worker's claim to the recorded result, by exercise.",
		// A Django test run in a fresh container takes seconds; the
		// longest allowed (the 10-minute limit) lands in the last bucket.
		Buckets: []float64{0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600},
	}, []string{"exercise"})
	m.verdicts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "djgrade_verdicts_total",
		Help: "Finished gradings by exercise and verdict.",
	}, []string{"exercise", "verdict"})
	m.sandboxFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "djgrade_sandbox_failures_total",
		Help: "Gradings that ended in status error: djgrade or the Docker Engine failed, not the candidate.",
	})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "djgrade_http_request_duration_seconds",
		Help:    "HTTP request latency by method, route and status.",
		Buckets: prometheus.DefBuckets,
	}, []string{"method", "route", "status"})
	m.reg.MustRegister(m.gradingDuration, m.verdicts, m.sandboxFailures, m.httpDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if queue != nil {
		for _, st := range []grader.Status{grader.StatusQueued, grader.StatusRunning} {
			m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name:        "djgrade_queue_submissions",
				Help:        "Submissions waiting (queued) or being graded (running), from the store.",
				ConstLabels: prometheus.Labels{"status": string(st)},
			}, func() float64 {
				// A scrape must not hang on a busy store.
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				n, err := queue.Count(ctx, st)
				if err != nil {
					return -1
				}
				return float64(n)
			}))
		}
	}
	return m
}

// Observe records a grading event; pass it to grader.Service.Listen. It only
// updates counters, so it returns at once as Listen requires.
func (m *Metrics) Observe(e grader.Event) {
	if e.Type != grader.EventFinished || e.Submission == nil {
		return
	}
	sub := e.Submission
	if !sub.StartedAt.IsZero() && !sub.FinishedAt.IsZero() {
		m.gradingDuration.WithLabelValues(sub.Exercise).Observe(sub.FinishedAt.Sub(sub.StartedAt).Seconds())
	}
	verdict := "none"
	if sub.Result != nil && sub.Result.Verdict != "" {
		verdict = string(sub.Result.Verdict)
	}
	m.verdicts.WithLabelValues(sub.Exercise, verdict).Inc()
	if sub.Status == grader.StatusError {
		m.sandboxFailures.Inc()
	}
}

// Handler serves the registry in Prometheus' text exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Mount adds the request-latency middleware to s and serves the metrics at
// PathMetrics. Metrics hold no candidate data (exercise ids, verdicts and
// counts only), so the route is open like /healthz; keep the port private
// or filter the route at the proxy where even that is too much.
func (m *Metrics) Mount(s *Server) {
	e := s.Echo()
	// Echo routes a request before running middleware added with Use, so
	// c.Path() already names the route here.
	e.Use(m.measure)
	GET(e, PathMetrics, echo.WrapHandler(m.Handler()))
}

// measure times a request. It renders a handler's error itself, as
// logRequests does, so that the status it records is the one sent.
func (m *Metrics) measure(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		route := c.Path()
		status := c.Response().Status
		if route == "" || status == http.StatusNotFound && !isKnownRoute(c) {
			// Unmatched paths are the caller's arbitrary text: one label
			// value for all of them keeps the series count bounded.
			route = "unmatched"
		}
		m.httpDuration.WithLabelValues(c.Request().Method, route, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
		return nil
	}
}

// isKnownRoute reports whether c matched one of the routes registered on the
// server (Echo names unmatched requests by their path or a catch-all).
func isKnownRoute(c echo.Context) bool {
	p := c.Path()
	if p == "" || strings.HasSuffix(p, "/*") {
		return false
	}
	for _, r := range c.Echo().Routes() {
		if r.Path == p {
			return true
		}
	}
	return false
}

// Engines adds a gauge set per Docker engine, read from fn at each scrape:
// djgrade_engine_up (1 healthy, 0 drained), djgrade_engine_capacity,
// djgrade_engine_running and djgrade_engine_pool_waiting, each labelled
// with the engine's name. Call it once, before serving.
func (m *Metrics) Engines(fn func() []EngineState) {
	m.reg.MustRegister(engineCollector{fn})
}

var (
	engineUpDesc       = prometheus.NewDesc("djgrade_engine_up", "Whether the Docker engine is healthy (1) or drained (0).", []string{"engine"}, nil)
	engineCapacityDesc = prometheus.NewDesc("djgrade_engine_capacity", "Runs the Docker engine takes at once.", []string{"engine"}, nil)
	engineRunningDesc  = prometheus.NewDesc("djgrade_engine_running", "Runs on the Docker engine now.", []string{"engine"}, nil)
	enginePoolDesc     = prometheus.NewDesc("djgrade_engine_pool_waiting", "Sandboxes started ahead of demand waiting on the Docker engine.", []string{"engine"}, nil)
)

// engineCollector reads the engines at each scrape.
type engineCollector struct{ fn func() []EngineState }

func (c engineCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- engineUpDesc
	ch <- engineCapacityDesc
	ch <- engineRunningDesc
	ch <- enginePoolDesc
}

func (c engineCollector) Collect(ch chan<- prometheus.Metric) {
	for _, e := range c.fn() {
		up := 0.0
		if e.Healthy {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(engineUpDesc, prometheus.GaugeValue, up, e.Name)
		ch <- prometheus.MustNewConstMetric(engineCapacityDesc, prometheus.GaugeValue, float64(e.Capacity), e.Name)
		ch <- prometheus.MustNewConstMetric(engineRunningDesc, prometheus.GaugeValue, float64(e.Running), e.Name)
		ch <- prometheus.MustNewConstMetric(enginePoolDesc, prometheus.GaugeValue, float64(e.PoolWaiting), e.Name)
	}
}
