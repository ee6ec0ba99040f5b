package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/dicomweb"
	"github.com/ern-cpms/cpms/dicomweb/dicomwebtest"
)

// seedDemoImages stores, once, a small synthetic CT study for each demo patient in the scope of
// the patient's centre, as that centre's PACS would: PatientID and IssuerOfPatientID are the
// patient's local identifier, so each study is linked to its patient. The studies are dated
// 2019, before anything a test or a PACS is likely to send.
func (b *backend) seedDemoImages(ctx context.Context) (int, error) {
	if _, done, err := b.store.Setting(ctx, "demo.images"); err != nil || done {
		return 0, err
	}
	pats, _, err := b.store.SearchPatients(ctx, cpms.PatientFilter{ERN: "EuroBloodNet", Limit: 1000,
		Sort: []cpms.SortKey{{Field: "cpmsId"}}})
	if err != nil {
		return 0, err
	}
	stored := 0
	for n, p := range pats {
		if len(p.Identifiers) == 0 || !strings.HasPrefix(p.Identifiers[0].Value, "DEMO-") {
			continue // only the demo network's own patients
		}
		root := fmt.Sprintf("%s.%d", dicomwebtest.UIDRoot(20190), n+1)
		scope := dicomweb.Scope{Kind: dicomweb.ScopeCentres, ID: p.Centre}
		var outcomes []dicomweb.Outcome
		for k := range 3 {
			inst := dicomwebtest.CT{PatientName: p.LastName + "^" + p.FirstName, PatientID: p.Identifiers[0].Value,
				IssuerOfPatientID: strings.TrimPrefix(p.Identifiers[0].System, "urn:oid:"),
				BirthDate:         strings.ReplaceAll(string(p.BirthDate), "-", ""), Sex: demoSex(p.Gender),
				StudyUID: root + ".1", SeriesUID: root + ".1.1", SOPUID: fmt.Sprintf("%s.1.1.%d", root, k+1),
				StudyDate: fmt.Sprintf("201903%02d", 1+n%28), StudyTime: "100000", AccessionNumber: fmt.Sprintf("DEMO%05d", n+1),
				StudyDescription: "Synthetic CT of the chest (demo)", SeriesNumber: 1, InstanceNumber: k + 1, Size: 128}
			o, err := b.images.StoreInstance(ctx, scope, "", bytes.NewReader(inst.Bytes()))
			if err != nil {
				return stored, err
			}
			if o.Failed {
				return stored, fmt.Errorf("a demo instance was refused: %s", o.Message)
			}
			outcomes = append(outcomes, o)
			stored++
		}
		if err := b.images.AfterStore(ctx, operator(), cpms.RequestInfo{}, scope, outcomes); err != nil {
			return stored, err
		}
	}
	return stored, b.store.PutSetting(ctx, "demo.images", time.Now().UTC().Format(time.RFC3339))
}

func demoSex(g cpms.Gender) string {
	switch g {
	case cpms.GenderMale:
		return "M"
	case cpms.GenderFemale:
		return "F"
	}
	return "O"
}
