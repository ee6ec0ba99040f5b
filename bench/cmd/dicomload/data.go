package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/ern-cpms/cpms/dicomweb/dicomwebtest"
)

// instance is one generated Part 10 file.
type instance struct {
	path string
	size int64
}

// studySet is a generated set of studies, one series each, stored as files.
type studySet struct {
	instances []instance
	studies   []string // study UIDs, in order
	patients  []int    // the patient number of each study
}

// dataset names the run's synthetic data. Every UID is under dicomwebtest.UIDRoot(run), a
// number picked per run, so that a run never collides with the data of an earlier one.
type dataset struct {
	dir  string
	run  int
	root string
}

// patient is the number of patient k of this run: the run number, then k on five digits, so
// all of a run's patient names have the same length and "Testpatient<patient/10>*" matches
// ten of them.
func (d *dataset) patient(k int) int { return d.run*100_000 + k }

// generate writes n instances of size×size pixels as files under dir/label: studies of up to
// perStudy slices, study s under UID root.<arm>.<s+1> of patient first+s.
func (d *dataset) generate(label string, arm, n, perStudy, size, first int) (*studySet, error) {
	dir := filepath.Join(d.dir, label)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	set := &studySet{instances: make([]instance, n)}
	for s := 0; s*perStudy < n; s++ {
		set.studies = append(set.studies, fmt.Sprintf("%s.%d.%d", d.root, arm, s+1))
		set.patients = append(set.patients, d.patient(first+s))
	}
	jobs := make(chan int)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				s, k := i/perStudy, i%perStudy
				study, p := set.studies[s], set.patients[s]
				b := dicomwebtest.CT{
					PatientName: fmt.Sprintf("Testpatient%d^Synthetic", p), PatientID: fmt.Sprintf("SYN%06d", p),
					IssuerOfPatientID: "1.2.826.0.1.3680043.10.1", BirthDate: "19700101", Sex: "O",
					StudyUID: study, SeriesUID: study + ".1", SOPUID: fmt.Sprintf("%s.1.%d", study, k+1),
					StudyDate: "20240102", StudyTime: "101500", AccessionNumber: fmt.Sprintf("A%d", p),
					StudyDescription: "Synthetic CT " + label, SeriesNumber: 1, InstanceNumber: k + 1, Size: size,
				}.Bytes()
				path := filepath.Join(dir, strconv.Itoa(i)+".dcm")
				if err := os.WriteFile(path, b, 0o644); err != nil {
					select {
					case errs <- err:
					default:
					}
					continue
				}
				set.instances[i] = instance{path: path, size: int64(len(b))}
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	return set, nil
}

// boundary separates the parts of every STOW body; it is the one of dicomwebtest.Multipart, so
// that the bodies built here from files are byte for byte the ones it builds in memory.
const boundary = "dicomwebtest-boundary-7c1e"

const stowContentType = `multipart/related; type="application/dicom"; boundary=` + boundary

// stowBody streams a STOW-RS body of the files: multipart/related of application/dicom parts,
// read from the files as the request is sent. It returns the body and its length.
func stowBody(batch []instance) (io.ReadCloser, int64, error) {
	const head = "--" + boundary + "\r\nContent-Type: application/dicom\r\n\r\n"
	const tail = "--" + boundary + "--\r\n"
	body := &filesBody{}
	var readers []io.Reader
	var n int64
	for _, inst := range batch {
		f, err := os.Open(inst.path)
		if err != nil {
			body.Close()
			return nil, 0, err
		}
		body.files = append(body.files, f)
		readers = append(readers, strings.NewReader(head), io.LimitReader(f, inst.size), strings.NewReader("\r\n"))
		n += int64(len(head)) + inst.size + 2
	}
	readers = append(readers, strings.NewReader(tail))
	n += int64(len(tail))
	body.r = io.MultiReader(readers...)
	return body, n, nil
}

// filesBody is a request body read from open files, which it closes.
type filesBody struct {
	r     io.Reader
	files []*os.File
}

func (b *filesBody) Read(p []byte) (int, error) { return b.r.Read(p) }

func (b *filesBody) Close() error {
	for _, f := range b.files {
		f.Close()
	}
	b.files = nil
	return nil
}

// batches cuts instances into requests of up to size instances.
func batches(insts []instance, size int) [][]instance {
	var out [][]instance
	for len(insts) > 0 {
		k := min(size, len(insts))
		out = append(out, insts[:k])
		insts = insts[k:]
	}
	return out
}

func totalSize(insts []instance) int64 {
	var n int64
	for _, i := range insts {
		n += i.size
	}
	return n
}
