// Package scheduler turns trained models into a living bot: it owns the set of
// live models the bot samples from, their versions on disk, and the cron jobs
// that keep them fresh.
//
// Live models. Live holds, per enabled model, an atomic pointer to the loaded
// live version. /comment (Scheduler.Generate) loads the pointer and samples
// with no lock held; a promotion or rollback publishes a new pointer, so a
// generation in flight finishes on the version it started with.
//
// Versions on disk. Repo keeps <data_dir>/models/<name>/v000007.ckpt with its
// figures in v000007.json and a file "live" naming the live version; every file
// is written atomically (internal/atomicfile: temp file, fsync, rename, fsync of
// the directory), so a crash or kill -9 mid-write leaves the previous version
// loadable. The newest schedule.keep_versions versions are kept, and always the
// live one. A live checkpoint that no longer decodes falls back to the newest
// that does.
//
// Jobs. Ingest (schedule.ingest), fine-tune (schedule.fine_tune) and scheduled
// posts (schedule.posts) run on robfig/cron with Recover and SkipIfStillRunning;
// each runs under a context that Shutdown cancels, and each run — ingest,
// fine-tune, post, first training, full training, rollback — is recorded in the
// store with its figures (a runs.Run: the scheduler defines the record, the
// store keeps it). A failing job is logged and recorded, never fatal.
//
// Fine-tune and the promotion gate. A fine-tune trains a Clone of the live
// version (same vocabulary: new words map to the unknown token) on the
// comments ingested since its last fine-tune, mixed with replay_ratio older
// ones per fresh one drawn uniformly (reservoir sampling), within
// fine_tune_minutes, with the same plan as a first training (TrainPlan:
// schedule, evaluations on the fixed held-out set, plateaus, best weights).
// Candidate and live are then measured, as mean nats per
// token, on the fixed held-out set (the first validation-split comments
// ingested before the fresh ones) and on the fresh validation-split comments.
// Gate promotes when
//
//	not diverged, candidate losses finite,
//	cand_fixed ≤ live_fixed + tolerance, and
//	cand_fresh ≤ live_fresh + tolerance (when there are fresh held-out tokens);
//
// a rejected candidate is dropped and the reason recorded.
//
// First start. Start loads what is on disk and, for each enabled model without
// a checkpoint, trains one from scratch in the background (first_train_minutes)
// — the bot serves meanwhile and the model appears (OnModelsChanged) when it is
// ready. Train does the same on demand (a new vocabulary and lineage with Full), or
// continues the live version, or resumes a run that was interrupted.
//
// Config reload. Apply puts a validated config in force: disabled models leave
// the live set at once, enabled ones load or train, cron entries are rebuilt.
//
// Observability. Metrics go to the prometheus.Registry given in Options (never
// the default registry); Handler serves /metrics and /healthz; after every
// training run a loss-curve PNG is written to <data_dir>/models/<name>/loss.png
// (LossPNG returns it for /models).
//
// The scheduler consumes small ports (Model, Engine, Store, Ingester, Poster).
// A store.Store is a Store as it is; engine.go adapts the model package, which
// works on token ids: ModelEngine counts vocabularies with package text,
// batches comments with corpus.Batcher, encodes prompts and decodes samples.
package scheduler
