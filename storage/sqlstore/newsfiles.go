package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// newsFileCols are what a read of a news file returns, its bytes aside.
const newsFileCols = "id, person_id, name, kind, size, sha256, created_at"

func newsFileDest(f *storage.NewsFile) []any {
	return []any{&f.ID, idCol{&f.PersonID}, &f.Name, &f.Kind, &f.Size, &f.SHA256, timeCol{&f.CreatedAt}}
}

// SaveNewsFile stores an uploaded file with its bytes.
func (db *DB) SaveNewsFile(ctx context.Context, f storage.NewsFile) (storage.NewsFile, error) {
	if (f.Kind != storage.FilePhoto && f.Kind != storage.FileDocument) || len(f.Data) == 0 || f.Size != len(f.Data) || f.SHA256 == "" {
		return storage.NewsFile{}, fmt.Errorf("save news file: incomplete file (kind %q, %d bytes of %d)", f.Kind, len(f.Data), f.Size)
	}
	c := db.conn()
	var out storage.NewsFile
	err := c.row(ctx, "INSERT INTO news_files (person_id, name, kind, size, sha256, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING "+newsFileCols,
		nullID(f.PersonID), f.Name, f.Kind, f.Size, f.SHA256, f.Data, c.d.t(f.CreatedAt)).Scan(newsFileDest(&out)...)
	if err != nil {
		return storage.NewsFile{}, fmt.Errorf("save news file: %w", c.d.classify(err, storage.ErrConflict))
	}
	db.logger.InfoContext(ctx, "news file saved", "file", out.ID, "person", out.PersonID, "kind", out.Kind, "bytes", out.Size)
	return out, nil
}

// NewsFile finds a stored file, without its bytes.
func (db *DB) NewsFile(ctx context.Context, id int64) (storage.NewsFile, error) {
	var f storage.NewsFile
	if err := db.conn().row(ctx, "SELECT "+newsFileCols+" FROM news_files WHERE id = ?", id).Scan(newsFileDest(&f)...); err != nil {
		return storage.NewsFile{}, fmt.Errorf("get news file %d: %w", id, notFound(err))
	}
	return f, nil
}

// NewsFileData reads a stored file's bytes.
func (db *DB) NewsFileData(ctx context.Context, id int64) ([]byte, error) {
	var data []byte
	if err := db.conn().row(ctx, "SELECT data FROM news_files WHERE id = ?", id).Scan(&data); err != nil {
		return nil, fmt.Errorf("read news file %d: %w", id, notFound(err))
	}
	return data, nil
}

// PruneNewsFiles deletes the files stored before before that no broadcast
// carries.
func (db *DB) PruneNewsFiles(ctx context.Context, before time.Time) (int, error) {
	c := db.conn()
	res, err := c.exec(ctx, `DELETE FROM news_files WHERE created_at < ?
		AND NOT EXISTS (SELECT 1 FROM broadcasts b WHERE b.file_id = news_files.id)`, c.d.t(before))
	if err != nil {
		return 0, fmt.Errorf("prune news files: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune news files: %w", err)
	}
	if n > 0 {
		db.logger.InfoContext(ctx, "news files pruned", "files", n)
	}
	return int(n), nil
}

// FileRef is platform p's reference to the file of a broadcast.
func (db *DB) FileRef(ctx context.Context, broadcastID int64, p storage.Platform) (string, error) {
	var ref string
	err := db.conn().row(ctx, "SELECT ref FROM broadcast_file_refs WHERE broadcast_id = ? AND platform = ?", broadcastID, p).Scan(&ref)
	if err != nil {
		return "", fmt.Errorf("file reference of broadcast %d on %s: %w", broadcastID, p, notFound(err))
	}
	return ref, nil
}

// SetFileRef records ref unless one is recorded, and returns the one kept.
func (db *DB) SetFileRef(ctx context.Context, broadcastID int64, p storage.Platform, ref string) (string, error) {
	if ref == "" || !p.Valid() {
		return "", fmt.Errorf("set file reference of broadcast %d: empty reference or unknown platform %q", broadcastID, p)
	}
	c := db.conn()
	_, err := c.exec(ctx, `INSERT INTO broadcast_file_refs (broadcast_id, platform, ref) VALUES (?, ?, ?)
		ON CONFLICT (broadcast_id, platform) DO NOTHING`, broadcastID, p, ref)
	if err != nil {
		return "", fmt.Errorf("set file reference of broadcast %d: %w", broadcastID, c.d.classify(err, storage.ErrConflict))
	}
	return db.FileRef(ctx, broadcastID, p)
}

// forgetNewsFiles deletes the files a person uploaded that no broadcast
// took and unlinks the others.
func (c conn) forgetNewsFiles(ctx context.Context, personID int64) error {
	_, err := c.exec(ctx, `DELETE FROM news_files WHERE person_id = ?
		AND NOT EXISTS (SELECT 1 FROM broadcasts b WHERE b.file_id = news_files.id)`, personID)
	if err != nil {
		return fmt.Errorf("delete news files: %w", err)
	}
	if _, err := c.exec(ctx, "UPDATE news_files SET person_id = NULL WHERE person_id = ?", personID); err != nil {
		return fmt.Errorf("unlink news files: %w", err)
	}
	return nil
}
