package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Open opens the store that url names: "" is the embedded SQLite store in
// dataDir/corpus.db (model versions under dataDir/models, created when
// missing), a postgres:// URL the PostgreSQL database (see OpenPostgres).
func Open(ctx context.Context, url, dataDir string) (Store, error) {
	if url != "" {
		return OpenPostgres(ctx, url)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("store: data directory: %w", err)
	}
	return OpenSQLite(ctx, filepath.Join(dataDir, "corpus.db"))
}
