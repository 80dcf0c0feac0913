package scheduler

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the scheduler's Prometheus collectors, registered in the registry
// given to New (never the global default registry).
type metrics struct {
	commands        *prometheus.CounterVec   // command, outcome
	commandSeconds  *prometheus.HistogramVec // command
	genTokens       *prometheus.CounterVec   // model
	genSeconds      *prometheus.CounterVec   // model
	genTokensPerSec *prometheus.GaugeVec     // model, last generation
	trainLoss       *prometheus.GaugeVec     // model
	trainTokensSec  *prometheus.GaugeVec     // model
	heldOutLoss     *prometheus.GaugeVec     // model, live version
	ingested        *prometheus.CounterVec   // kind: new, updated, skipped
	ingestErrors    prometheus.Counter
	runs            *prometheus.CounterVec // job, outcome
	liveVersion     *prometheus.GaugeVec   // model
	freshLearned    *prometheus.GaugeVec   // model, last fine-tune
	bitsPerChar     *prometheus.GaugeVec   // model, live version on the common held-out set
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "commentbot_commands_total", Help: "Slash commands served, by command and outcome.",
		}, []string{"command", "outcome"}),
		commandSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "commentbot_command_seconds", Help: "Latency of slash commands from receipt to answer.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 3, 5, 10, 30},
		}, []string{"command"}),
		genTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "commentbot_generation_tokens_total", Help: "Tokens generated, by model.",
		}, []string{"model"}),
		genSeconds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "commentbot_generation_seconds_total", Help: "Time spent generating, by model (tokens_total / seconds_total = tokens/s).",
		}, []string{"model"}),
		genTokensPerSec: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "commentbot_generation_tokens_per_second", Help: "Speed of the last generation, by model.",
		}, []string{"model"}),
		trainLoss: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "commentbot_training_loss", Help: "Latest training loss (nats/token), by model.",
		}, []string{"model"}),
		trainTokensSec: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "commentbot_training_tokens_per_second", Help: "Latest training speed, by model.",
		}, []string{"model"}),
		heldOutLoss: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "commentbot_live_held_out_loss", Help: "Held-out loss (nats/token) of the live version, by model.",
		}, []string{"model"}),
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "commentbot_ingested_comments_total", Help: "Comments ingested, by kind (new, updated, skipped).",
		}, []string{"kind"}),
		ingestErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "commentbot_ingest_errors_total", Help: "Ingest runs that failed.",
		}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "commentbot_job_runs_total", Help: "Scheduler job runs, by job and outcome.",
		}, []string{"job", "outcome"}),
		liveVersion: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "commentbot_live_version", Help: "Live checkpoint version, by model (absent when disabled).",
		}, []string{"model"}),
		freshLearned: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "commentbot_fine_tune_fresh_learned_ratio", Help: "Share of the fresh comments' tokens the last fine-tune trained on, by model.",
		}, []string{"model"}),
		bitsPerChar: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "commentbot_live_bits_per_char", Help: "Held-out bits per character of the live version, every model on the same comments, by model.",
		}, []string{"model"}),
	}
	for _, c := range []prometheus.Collector{m.commands, m.commandSeconds, m.genTokens, m.genSeconds,
		m.genTokensPerSec, m.trainLoss, m.trainTokensSec, m.heldOutLoss, m.ingested, m.ingestErrors, m.runs, m.liveVersion,
		m.freshLearned, m.bitsPerChar} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// ObserveCommand is the hook the bot (or the lead's wiring) calls once per
// answered slash command: command is "comment", "models", "retrain"…; err nil
// counts as outcome "ok".
func (s *Scheduler) ObserveCommand(command string, latency time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	s.met.commands.WithLabelValues(command, outcome).Inc()
	s.met.commandSeconds.WithLabelValues(command).Observe(latency.Seconds())
}

// Handler serves /metrics (the registry given to New), /healthz (liveness: 200
// with the live models and Options.Health's entries as JSON while running, 503
// once Shutdown has begun) and /readyz (readiness: 200 once every enabled model
// is loaded and the store answers, 503 with the reasons otherwise).
func (s *Scheduler) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		body := map[string]any{}
		if s.opts.Health != nil {
			for k, v := range s.opts.Health() {
				body[k] = v
			}
		}
		status, code := "ok", http.StatusOK
		if s.stopping.Load() {
			status, code = "stopping", http.StatusServiceUnavailable
		}
		body["status"], body["models"] = status, s.modelStates()
		writeJSON(w, code, body)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		why := s.notReady(r.Context())
		code := http.StatusOK
		if len(why) > 0 {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, map[string]any{"ready": len(why) == 0, "not_ready": why, "models": s.modelStates()})
	})
	return mux
}

type modelState struct {
	Name    string `json:"name"`
	Ready   bool   `json:"ready"`
	Version int    `json:"version,omitempty"`
}

func (s *Scheduler) modelStates() []modelState {
	models := []modelState{}
	for _, st := range s.live.Models() {
		m := modelState{Name: st.Config.Name, Ready: st.Ready}
		if st.Live != nil {
			m.Version = st.Live.Version
		}
		models = append(models, m)
	}
	return models
}

// notReady lists why this process should get no traffic: stopping, an enabled
// model not loaded, the shared store not answering.
func (s *Scheduler) notReady(ctx context.Context) []string {
	why := []string{}
	if s.stopping.Load() {
		why = append(why, "stopping")
	}
	for _, st := range s.live.Models() {
		if !st.Ready {
			why = append(why, "model "+st.Config.Name+" not loaded")
		}
	}
	if s.opts.Fleet != nil {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := s.opts.Fleet.Ping(ctx); err != nil {
			why = append(why, "store: "+err.Error())
		}
	}
	return why
}

func writeJSON(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}
