package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/cpms/sqlstore"
	"github.com/ern-cpms/cpms/dicomweb"
	"github.com/ern-cpms/cpms/dicomweb/sqlindex"
	"github.com/ern-cpms/cpms/internal/blob"
	"github.com/ern-cpms/cpms/internal/sqldb"
)

// storageFlags say where the data lives; every command takes them.
type storageFlags struct {
	data        *string
	databaseURL *string
	blobURL     *string
	secretFile  *string
	visibility  *string
}

func addStorageFlags(f *flags) *storageFlags {
	return &storageFlags{
		data:        f.str("data", "CPMS_DATA", "./cpms-data", "data folder of the embedded default: the SQLite database and the blob folder"),
		databaseURL: f.str("database-url", "CPMS_DATABASE_URL", "", "PostgreSQL URL (postgres://user:pass@host/db) instead of SQLite in the data folder"),
		blobURL:     f.str("blob-url", "CPMS_BLOB_URL", "", "S3 URL (s3://ACCESS:SECRET@host:port/bucket?secure=false) instead of the blob folder"),
		secretFile:  f.str("secret-file", "CPMS_SECRET_FILE", "", "file holding the deployment's master secret (at least 32 bytes); default: secrets kept in the database"),
		visibility: f.str("centre-visibility", "CPMS_CENTRE_VISIBILITY", cpms.VisibilityCentre,
			"who sees a patient's identity: 'centre' (the enrolling centre's clinicians, as in CPMS 1) or 'clinician' (only the responsible clinician and their assistants)"),
	}
}

func (s *storageFlags) validate() error {
	var problems []string
	if *s.databaseURL == "" || *s.blobURL == "" {
		if strings.TrimSpace(*s.data) == "" {
			problems = append(problems, "--data (CPMS_DATA) is empty and the database or blob store needs it")
		}
	}
	if u := *s.databaseURL; u != "" && !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") && !strings.HasPrefix(u, "sqlite://") {
		problems = append(problems, "--database-url (CPMS_DATABASE_URL) must start with postgres:// or sqlite://")
	}
	if u := *s.blobURL; u != "" && !strings.HasPrefix(u, "s3://") && !strings.HasPrefix(u, "file://") {
		problems = append(problems, "--blob-url (CPMS_BLOB_URL) must start with s3:// or file://")
	}
	if v := *s.visibility; v != cpms.VisibilityCentre && v != cpms.VisibilityClinician {
		problems = append(problems, "--centre-visibility (CPMS_CENTRE_VISIBILITY) is centre or clinician")
	}
	if len(problems) > 0 {
		return usageError{strings.Join(problems, "; ")}
	}
	return nil
}

// backend is the opened storage and the domain service on it.
type backend struct {
	db      *sqldb.DB
	store   *sqlstore.Store
	blobs   blob.Store
	auditor *cpms.Auditor
	svc     *cpms.Service
	images  *dicomweb.Store
}

func (b *backend) Close() {
	if b.auditor != nil {
		b.auditor.Close()
	}
	if b.db != nil {
		b.db.Close()
	}
}

type backendOptions struct {
	log  *slog.Logger
	demo bool
}

// open opens the database (applying migrations), the blob store, the audit trail and the service.
func (s *storageFlags) open(ctx context.Context, o backendOptions) (*backend, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	b := &backend{}
	ok := false
	defer func() {
		if !ok {
			b.Close()
		}
	}()
	var err error
	b.db, err = sqldb.Open(ctx, sqldb.Config{URL: *s.databaseURL, DataDir: *s.data})
	if err != nil {
		return nil, err
	}
	b.store, err = sqlstore.New(ctx, sqlstore.Config{DB: b.db})
	if err != nil {
		return nil, err
	}
	imageIndex, err := sqlindex.New(ctx, b.db)
	if err != nil {
		return nil, err
	}
	b.blobs, err = blob.Open(ctx, blob.Config{URL: *s.blobURL, DefaultDir: filepath.Join(*s.data, "blobs")})
	if err != nil {
		return nil, err
	}
	var master []byte
	if *s.secretFile != "" {
		master, err = os.ReadFile(*s.secretFile)
		if err != nil {
			return nil, fmt.Errorf("secret file: %w", err)
		}
		if len(strings.TrimSpace(string(master))) < 32 {
			return nil, usageError{"the secret file must hold at least 32 bytes"}
		}
	}
	b.auditor = cpms.NewAuditor(cpms.AuditorConfig{Store: b.store, Logger: o.log})
	b.svc, err = cpms.NewService(cpms.Config{Store: b.store, Auditor: b.auditor, Logger: o.log, Demo: o.demo, MasterSecret: master,
		PatientVisibility: *s.visibility, Images: dicomweb.Catalog{Index: imageIndex}})
	if err != nil {
		return nil, err
	}
	b.images, err = dicomweb.New(dicomweb.Config{Index: imageIndex, Blobs: b.blobs, Domain: b.svc, Logger: o.log})
	if err != nil {
		return nil, err
	}
	ok = true
	return b, nil
}

// operator is the principal of commands run on the server: the OS user.
func operator() *cpms.Principal {
	name := "operator"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	return &cpms.Principal{Operator: name, Via: "cli"}
}

// describe turns a domain error into a one-line message for the terminal.
func describe(err error) error {
	var de *cpms.Error
	if errors.As(err, &de) {
		return errors.New(de.Error())
	}
	return err
}
