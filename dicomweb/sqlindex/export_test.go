package sqlindex

import (
	"context"

	"github.com/ern-cpms/cpms/dicomweb"
	"github.com/ern-cpms/cpms/internal/sqldb"
)

// PutBatch puts records in one transaction, as PutInstance does one by one: for tests that
// need many instances quickly. A duplicate is skipped.
func PutBatch(ctx context.Context, x *Index, recs []dicomweb.InstanceRecord) error {
	return x.db.InTx(ctx, func(tx *sqldb.Tx) error {
		for _, rec := range recs {
			if _, _, err := put(ctx, tx, normalized(rec)); err != nil {
				return err
			}
		}
		return nil
	})
}
