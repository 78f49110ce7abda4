package ledger

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// refBatch is the reference decoding with encoding/json.
type refBatch struct {
	BatchID *string   `json:"batch_id"`
	Root    *string   `json:"root"`
	Records *[]string `json:"records"`
}

var parseSeeds = []string{
	`{"batch_id":"b1","root":"` + strings.Repeat("a", 64) + `","records":["` + strings.Repeat("0", 64) + `"]}`,
	` { "records" : [ "a" , "b" , "c","d" ] , "root" : "x" , "batch_id" : "y" } `,
	`{"batch_id":"\u0062\/1\"","root":"","records":[]}`,
	`{"batch_id":"b","root":"r","records":["\ud83d\ude00","\n"]}`,
	`{"batch_id":null,"root":"r","records":[]}`,
	`{"BATCH_ID":"b","root":"r","records":[]}`,
	`{"batch_id":"b","batch_id":"c","root":"r","records":[]}`,
	`{"batch_id":"b","root":"r","records":[["a"]]}`,
	`{"batch_id":"b","root":"r","records":[["a","b"]]}`,
	`{"batch_id":"b","root":"r","records":["a",1]}`,
	`{"batch_id":"b","root":"r","records":[]}x`,
	`{"batch_id":"b","root":"r","records":[],}`,
	`{"batch_id":"b\x01","root":"r","records":[]}`,
	`{"batch_id":"b\u00","root":"r","records":[]}`,
	`{"batch_id":"b\`,
	`{"batch_id":"b`,
	`{"batch_id":"b","root":"r","records":["a","b",]}`,
	`{"batch_id":"b","root":"r","records":["a","b"`,
	`{"batch_id":"b","root":"r","records":["a","b"]`,
	"{\"batch_id\":\"\xff\",\"root\":\"r\",\"records\":[]}",
	`{}`,
	``,
	`[]`,
	`"x"`,
}

func TestParseBatchMatchesEncodingJSON(t *testing.T) {
	for _, s := range parseSeeds {
		checkParseAgainstRef(t, []byte(s))
	}
}

func FuzzParseBatch(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParseAgainstRef(t, data)
	})
}

// checkParseAgainstRef: whatever parseBatch accepts, encoding/json (strict: unknown
// fields disallowed) accepts with the same values; whatever encoding/json accepts,
// parseBatch accepts too unless one of its documented extra restrictions applies.
func checkParseAgainstRef(t *testing.T, data []byte) {
	got, err := parseBatch(data)

	var ref refBatch
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	refErr := dec.Decode(&ref)
	if refErr == nil {
		// encoding/json's Decoder stops after one value: trailing data is an error for us.
		if rest := bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
			refErr = errTrailing
		}
	}
	if refErr == nil && (ref.BatchID == nil || ref.Root == nil || ref.Records == nil) {
		refErr = errMissing
	}

	if err == nil {
		if refErr != nil {
			t.Fatalf("parseBatch accepted what encoding/json rejects (%v): %q", refErr, data)
		}
		if !utf8.Valid(data) {
			return // encoding/json replaces invalid UTF-8 with U+FFFD; parseBatch keeps the bytes (validation rejects non-ASCII ids anyway)
		}
		if string(got.BatchID) != *ref.BatchID || string(got.Root) != *ref.Root || len(got.Commitments) != len(*ref.Records) {
			t.Fatalf("decoding differs for %q", data)
		}
		for i, r := range *ref.Records {
			if string(got.Commitments[i]) != r {
				t.Fatalf("records[%d] differs for %q", i, data)
			}
		}
		return
	}
	if !strings.HasPrefix(err.Error(), "invalid batch JSON") && !strings.HasPrefix(err.Error(), "records: too many records") {
		t.Fatalf("unexpected error class %q", err)
	}
	if refErr == nil {
		stricter := []string{"duplicate field", "unknown field", "found null", "too many records", "not valid UTF-8"}
		for _, s := range stricter {
			if strings.Contains(err.Error(), s) {
				return
			}
		}
		if !utf8.Valid(data) {
			return // encoding/json replaces invalid UTF-8; validation rejects non-ASCII anyway
		}
		t.Fatalf("parseBatch rejected (%v) what encoding/json accepts: %q", err, data)
	}
}

type constErr string

func (e constErr) Error() string { return string(e) }

const (
	errTrailing = constErr("trailing data")
	errMissing  = constErr("missing field")
)
