package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
)

const (
	platform = "PlatformMSP"
	wantTS   = "2026-01-01T00:00:00.123456Z"
)

func commitment(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// recs returns n distinct commitments derived from prefix.
func recs(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = commitment(fmt.Sprintf("%s%d", prefix, i))
	}
	return out
}

func batchJSON(batchID, root string, cs []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"batch_id":%s,"root":%s,"records":[`, js(batchID), js(root))
	for i, c := range cs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(js(c))
	}
	b.WriteString("]}")
	return b.String()
}

// recValue is the expected record value, built by hand (single-byte varint: i < 128).
func recValue(i int, batchID string) string {
	if i >= 128 {
		panic("bad test input")
	}
	return string([]byte{byte(i)}) + batchID
}

// recKey is the expected record key of commitment hex c, built by hand.
func recKey(c string) string {
	return "\x00rec\x00" + base64.RawURLEncoding.EncodeToString(rawCommitment(c)) + "\x00"
}

func rawCommitment(c string) []byte {
	raw, err := hex.DecodeString(c)
	if err != nil || len(raw) != CommitmentLen {
		panic("bad test commitment " + c)
	}
	return raw
}

// recordKeyOf is RecordKey of commitment hex c.
func recordKeyOf(c string) string { return RecordKey([CommitmentLen]byte(rawCommitment(c))) }

func TestRecordValueRoundTripAndStrictDecoding(t *testing.T) {
	for _, idx := range []uint64{0, 1, 127, 128, 300, 49999} {
		v := AppendRecordValue(nil, idx, "b-1")
		got, err := DecodeRecordValue(v)
		if err != nil || got.LeafIndex != idx || got.BatchID != "b-1" {
			t.Fatalf("%d: %+v %v", idx, got, err)
		}
	}
	bad := map[string]string{
		"empty":           "",
		"non-minimal":     "\x80\x00b1",
		"truncated":       "\x80",
		"no batch id":     "\x05",
		"bad batch id":    "\x05a b",
		"index too big":   string(AppendRecordValue(nil, MaxRecords, "b")),
		"varint too long": "\x80\x80\x80\x01b",
	}
	for name, v := range bad {
		if _, err := DecodeRecordValue([]byte(v)); err == nil || RefusalCode(err) != CodeCorruptValue {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func js(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

var root1 = commitment("root-1")

func mustOK(t testing.TB, r *peer.Response) []byte {
	t.Helper()
	if r.Status != shim.OK {
		t.Fatalf("status %d: %s", r.Status, r.Message)
	}
	return r.Payload
}

func mustErr(t testing.TB, r *peer.Response, want string) {
	t.Helper()
	if r.Status == shim.OK {
		t.Fatalf("expected error %q, got OK with payload %.200q", want, r.Payload)
	}
	if r.Message != want {
		t.Fatalf("error mismatch\n got: %s\nwant: %s", r.Message, want)
	}
}

func TestPutBatchHappyPath(t *testing.T) {
	l := newLedger()
	cc := New(nil)
	rs := recs("r", 3)
	s := l.tx(t, platform, "tx1", "PutBatch", batchJSON("b1", root1, rs))
	payload := mustOK(t, s.invoke(cc))

	wantBatch := `{"batch_id":"b1","root":"` + root1 + `","size":3,"tx_id":"tx1","msp":"PlatformMSP","ts":"` + wantTS + `"}`
	if string(payload) != wantBatch {
		t.Fatalf("payload\n got %s\nwant %s", payload, wantBatch)
	}
	want := []kv{
		{"\x00batch\x00b1\x00", wantBatch},
		{recKey(rs[0]), recValue(0, "b1")},
		{recKey(rs[1]), recValue(1, "b1")},
		{recKey(rs[2]), recValue(2, "b1")},
	}
	sort.Slice(want, func(i, j int) bool { return want[i].K < want[j].K })
	got := s.writeSet()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("write set\n got %q\nwant %q", got, want)
	}
	// The keys are exactly what shim.CreateCompositeKey produces.
	for _, w := range []struct{ typ, id, key string }{{"batch", "b1", BatchKey("b1")}, {"rec", base64.RawURLEncoding.EncodeToString(rawCommitment(rs[0])), recordKeyOf(rs[0])}} {
		k, err := shim.CreateCompositeKey(w.typ, []string{w.id})
		if err != nil || k != w.key {
			t.Fatalf("CreateCompositeKey(%q,%q) = %q, %v; want %q", w.typ, w.id, k, err, w.key)
		}
	}
	if bv, err := DecodeBatchValue(payload); err != nil || bv.Size != 3 || bv.TS != wantTS {
		t.Fatalf("batch value does not decode strictly: %+v %v", bv, err)
	}
	if s.eventName != "BatchAnchored" || string(s.eventBody) != `{"batch_id":"b1","root":"`+root1+`","size":3}` {
		t.Fatalf("event %q %s", s.eventName, s.eventBody)
	}
	if s.multiCalls != 1 || len(s.reads) != 4 {
		t.Fatalf("existence check: %d GetMultipleStates calls, %d reads; want 1 call, 4 reads", s.multiCalls, len(s.reads))
	}
	if s.flushes != 1 {
		t.Fatalf("FinishWriteBatch called %d times", s.flushes)
	}

	// Read back.
	r := mustOK(t, l.tx(t, "BankMSP", "tx2", "GetRecord", rs[1]).invoke(cc))
	wantRec := `{"commitment":"` + rs[1] + `","batch_id":"b1","leaf_index":1}`
	if string(r) != wantRec {
		t.Fatalf("GetRecord\n got %s\nwant %s", r, wantRec)
	}
	b := mustOK(t, l.tx(t, "RegulatorMSP", "tx3", "GetBatch", "b1").invoke(cc))
	if string(b) != wantBatch {
		t.Fatalf("GetBatch\n got %s\nwant %s", b, wantBatch)
	}
}

func TestPutBatchAcceptsAnyJSONEncoding(t *testing.T) {
	l := newLedger()
	cc := New(nil)
	c1, c2 := commitment("x"), commitment("y")
	// Key order, whitespace and escapes are free: \u0061 is "a", \u002d is "-".
	in := " \n{ \"records\" : [ \"\\u0061" + c1[1:] + "\" ,\"" + c2 + "\"\t] , \"root\":\"" + root1 + "\",\"batch_id\":\"b\\u002d1\"}\r\n"
	s := l.tx(t, platform, "tx1", "PutBatch", in)
	mustOK(t, s.invoke(cc))
	if _, ok := l.state[recKey("a"+c1[1:])]; !ok {
		t.Fatalf("escaped commitment not decoded: %q", s.writeSet())
	}
	if _, ok := l.state["\x00batch\x00b-1\x00"]; !ok {
		t.Fatalf("escaped batch id not decoded: %q", s.writeSet())
	}
}

func TestPutBatchValidationErrors(t *testing.T) {
	c := commitment("c")
	short := c[:63]
	eighteen := recs("r", 18)
	eighteen[17] = short
	dup := recs("r", 5)
	dup[3] = dup[0]
	many := recs("m", MaxRecords+1)
	long := strings.Repeat("a", 129)
	const bad = "[bad_argument] "

	cases := []struct{ name, in, want string }{
		{"short commitment", batchJSON("b1", root1, eighteen), bad + `records[17]: commitment must be 64 lowercase hex characters, got 63`},
		{"long commitment", batchJSON("b1", root1, []string{c + "0"}), bad + `records[0]: commitment must be 64 lowercase hex characters, got 65`},
		{"uppercase commitment", batchJSON("b1", root1, []string{strings.ToUpper(c)}), bad + "records[0]: " + hexErr("commitment", strings.ToUpper(c))},
		{"non-hex commitment", batchJSON("b1", root1, []string{c[:10] + "g" + c[11:]}), bad + `records[0]: commitment must be 64 lowercase hex characters, got invalid character 'g' at position 10`},
		{"empty commitment", batchJSON("b1", root1, []string{""}), bad + `records[0]: commitment must be 64 lowercase hex characters, got 0`},
		{"batch id with space", batchJSON("x y", root1, recs("r", 1)), bad + `batch_id "x y": must match ^[A-Za-z0-9._:-]{1,128}$`},
		{"empty batch id", batchJSON("", root1, recs("r", 1)), bad + `batch_id "": must match ^[A-Za-z0-9._:-]{1,128}$`},
		{"batch id too long", batchJSON(long, root1, recs("r", 1)), bad + `batch_id "` + long + `": must match ^[A-Za-z0-9._:-]{1,128}$`},
		{"batch id non-ascii", batchJSON("bé", root1, recs("r", 1)), bad + `batch_id "bé": must match ^[A-Za-z0-9._:-]{1,128}$`},
		{"duplicate commitment", batchJSON("b1", root1, dup), `[duplicate_in_batch] records[3]: duplicate commitment ` + dup[0] + ` (first at records[0])`},
		{"short root", batchJSON("b1", root1[:10], recs("r", 1)), bad + `root: must be 64 lowercase hex characters, got 10`},
		{"uppercase root", batchJSON("b1", strings.ToUpper(root1), recs("r", 1)), bad + hexErr("root:", strings.ToUpper(root1))},
		{"no records", batchJSON("b1", root1, nil), bad + `records: must contain at least 1 record, got 0`},
		{"too many records", batchJSON("b1", root1, many), bad + `records: too many records (more than 50000); split the batch`},
		{"unknown field", `{"batch_id":"b1","root":"` + root1 + `","records":[],"extra":1}`, bad + `invalid batch JSON: unknown field "extra" (allowed: batch_id, root, records)`},
		{"field case differs", `{"Batch_ID":"b1"}`, bad + `invalid batch JSON: unknown field "Batch_ID" (allowed: batch_id, root, records)`},
		{"duplicate field", `{"batch_id":"b1","batch_id":"b2"}`, bad + `invalid batch JSON: duplicate field "batch_id"`},
		{"missing batch_id", `{"root":"` + root1 + `","records":["` + c + `"]}`, bad + `invalid batch JSON: missing field "batch_id"`},
		{"missing root", `{"batch_id":"b1","records":["` + c + `"]}`, bad + `invalid batch JSON: missing field "root"`},
		{"missing records", `{"batch_id":"b1","root":"` + root1 + `"}`, bad + `invalid batch JSON: missing field "records"`},
		{"batch_id number", `{"batch_id":7}`, bad + `invalid batch JSON: batch_id must be a string, found number`},
		{"root null", `{"root":null}`, bad + `invalid batch JSON: root must be a string, found null`},
		{"records object", `{"records":{}}`, bad + `invalid batch JSON: records must be an array of commitment strings, found object`},
		{"records null", `{"records":null}`, bad + `invalid batch JSON: records must be an array of commitment strings, found null`},
		{"record is object", `{"records":[{"c":"x"}]}`, bad + `invalid batch JSON: records[0] must be a commitment string, found object`},
		{"record is old pair", `{"records":[["r1","` + c + `"]]}`, bad + `invalid batch JSON: records[0] must be a commitment string, found array`},
		{"commitment bool", `{"records":["` + c + `",true]}`, bad + `invalid batch JSON: records[1] must be a commitment string, found boolean`},
		{"not JSON", `hello`, bad + `invalid batch JSON at offset 0: expected a JSON object, found character 'h'`},
		{"empty arg", ``, bad + `invalid batch JSON: unexpected end of input, expected a JSON object`},
		{"array", `[]`, bad + `invalid batch JSON at offset 0: expected a JSON object, found array`},
		{"invalid UTF-8", "{\"batch_id\":\"\xff\"}", bad + `invalid batch JSON: not valid UTF-8`},
		{"unterminated string", `{"batch_id":"b1`, bad + `invalid batch JSON at offset 12: unterminated string`},
		{"control char", "{\"batch_id\":\"b\n1\"}", bad + `invalid batch JSON at offset 14: control character byte 0x0a in string`},
		{"bad escape", `{"batch_id":"b\x1"}`, bad + `invalid batch JSON at offset 12: bad string: invalid character 'x' in string escape code`},
		{"trailing data", batchJSON("b1", root1, recs("r", 1)) + ` {}`, bad + fmt.Sprintf(`invalid batch JSON at offset %d: unexpected data after the batch object`, len(batchJSON("b1", root1, recs("r", 1)))+1)},
		{"missing comma", `{"batch_id":"b1" "root":""}`, bad + `invalid batch JSON at offset 17: expected ',' or '}', found string`},
		{"trailing comma", `{"batch_id":"b1",}`, bad + `invalid batch JSON at offset 17: expected an object key (string), found character '}'`},
		{"records trailing comma", `{"records":["` + c + `",]}`, bad + `invalid batch JSON: records[1] must be a commitment string, found character ']'`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLedger()
			s := l.tx(t, platform, "tx1", "PutBatch", tc.in)
			mustErr(t, s.invoke(New(nil)), tc.want)
			if len(s.writes) != 0 || len(s.pending) != 0 || len(l.state) != 0 || s.eventName != "" {
				t.Fatalf("something was written on error: %d writes, event %q", len(s.writes), s.eventName)
			}
		})
	}
}

func hexErr(what, h string) string {
	for i := 0; i < len(h); i++ {
		if h[i] >= 'A' && h[i] <= 'F' {
			return fmt.Sprintf(`%s must be 64 lowercase hex characters, got invalid character '%c' at position %d`, what, h[i], i)
		}
	}
	panic("no uppercase hex")
}

func TestPutBatchMaxRecordsAccepted(t *testing.T) {
	l := newLedger()
	s := l.tx(t, platform, "tx1", "PutBatch", batchJSON("b1", root1, recs("m", MaxRecords)))
	mustOK(t, s.invoke(New(nil)))
	if len(l.state) != MaxRecords+1 {
		t.Fatalf("%d keys written", len(l.state))
	}
}

func TestNoOverwrite(t *testing.T) {
	l := newLedger()
	cc := New(nil)
	rs := recs("r", 4)
	mustOK(t, l.tx(t, platform, "tx1", "PutBatch", batchJSON("b1", root1, rs[:2])).invoke(cc))
	before := fmt.Sprint(len(l.state))

	// A record of another batch already exists.
	s := l.tx(t, platform, "tx2", "PutBatch", batchJSON("b2", root1, []string{rs[2], rs[1], rs[3]}))
	mustErr(t, s.invoke(cc), `[record_exists] record `+rs[1]+` already anchored in batch "b1" (records[1]; 1 of 3 records in this batch already anchored)`)
	if len(s.writes) != 0 || s.eventName != "" {
		t.Fatalf("written on refused overwrite: %q", s.writeSet())
	}
	// Several records exist.
	s = l.tx(t, platform, "tx3", "PutBatch", batchJSON("b3", root1, []string{rs[2], rs[0], rs[1]}))
	mustErr(t, s.invoke(cc), `[record_exists] record `+rs[0]+` already anchored in batch "b1" (records[1]; 2 of 3 records in this batch already anchored)`)
	if len(s.writes) != 0 {
		t.Fatal("written on refused overwrite")
	}
	// The batch exists (same batch resubmitted, or new records under an old batch id).
	for _, in := range []string{batchJSON("b1", root1, rs[:2]), batchJSON("b1", root1, rs[2:])} {
		s = l.tx(t, platform, "tx4", "PutBatch", in)
		mustErr(t, s.invoke(cc), `[batch_exists] batch "b1" already exists`)
		if len(s.writes) != 0 {
			t.Fatal("written on refused overwrite")
		}
	}
	if fmt.Sprint(len(l.state)) != before {
		t.Fatal("state changed")
	}
	// The original values are untouched.
	r := mustOK(t, l.tx(t, platform, "tx5", "GetRecord", rs[1]).invoke(cc))
	if !bytes.Contains(r, []byte(`"batch_id":"b1","leaf_index":1`)) {
		t.Fatalf("record changed: %s", r)
	}
	// Records not yet anchored can go in a new batch.
	mustOK(t, l.tx(t, platform, "tx6", "PutBatch", batchJSON("b2", root1, rs[2:])).invoke(cc))
}

func TestWriterMSP(t *testing.T) {
	l := newLedger()
	in := batchJSON("b1", root1, recs("r", 2))

	s := l.tx(t, "BankMSP", "tx1", "PutBatch", in)
	mustErr(t, s.invoke(New(nil)), `[not_writer] writer MSP "BankMSP" is not allowed to write (allowed: PlatformMSP)`)
	if len(s.writes) != 0 || s.multiCalls != 0 {
		t.Fatal("unauthorized caller caused reads or writes")
	}
	// Authorization is checked before the argument is even parsed.
	mustErr(t, l.tx(t, "BankMSP", "tx1", "PutBatch", "garbage").invoke(New(nil)),
		`[not_writer] writer MSP "BankMSP" is not allowed to write (allowed: PlatformMSP)`)
	mustErr(t, l.tx(t, "BankMSP", "tx1", "Touch", "k").invoke(New(nil)),
		`[not_writer] writer MSP "BankMSP" is not allowed to write (allowed: PlatformMSP)`)

	two := New([]string{"PlatformMSP", "Platform2MSP"})
	mustErr(t, l.tx(t, "RegulatorMSP", "tx1", "PutBatch", in).invoke(two),
		`[not_writer] writer MSP "RegulatorMSP" is not allowed to write (allowed: PlatformMSP, Platform2MSP)`)
	payload := mustOK(t, l.tx(t, "Platform2MSP", "tx2", "PutBatch", in).invoke(two))
	if !bytes.Contains(payload, []byte(`"msp":"Platform2MSP"`)) {
		t.Fatalf("batch value does not name the writer MSP: %s", payload)
	}

	// Broken identities.
	s = l.tx(t, platform, "tx3", "PutBatch", in)
	s.creator = nil
	mustErr(t, s.invoke(New(nil)), `[not_writer] cannot read the caller identity: creator is empty`)
	s = l.tx(t, platform, "tx3", "PutBatch", in)
	s.creator = []byte{0xff, 0xff}
	if r := s.invoke(New(nil)); r.Status == shim.OK || !strings.HasPrefix(r.Message, "[not_writer] cannot read the caller identity: ") {
		t.Fatalf("bad creator accepted: %d %s", r.Status, r.Message)
	}
	s = l.tx(t, "", "tx3", "PutBatch", in)
	mustErr(t, s.invoke(New(nil)), `[not_writer] cannot read the caller identity: MSP id is empty`)
}

func TestDeterminism(t *testing.T) {
	rs := recs("rec-", 2000)
	in := batchJSON("batch-42", root1, rs)
	run := func() (*memStub, []byte) {
		l := newLedger()
		s := l.tx(t, platform, "0123abcd", "PutBatch", in)
		return s, mustOK(t, s.invoke(New(nil)))
	}
	s1, p1 := run()
	s2, p2 := run()
	w1, w2 := s1.writeSet(), s2.writeSet()
	if len(w1) != 2001 {
		t.Fatalf("%d writes", len(w1))
	}
	for i := range w1 {
		if w1[i] != w2[i] {
			t.Fatalf("write %d differs:\n%q\n%q", i, w1[i], w2[i])
		}
	}
	if !bytes.Equal(p1, p2) || !bytes.Equal(s1.eventBody, s2.eventBody) {
		t.Fatal("payload or event differs")
	}
	// Values handed to PutState are never modified afterwards (the shim keeps the slices).
	for _, w := range w1 {
		if string(s1.writes[w.K]) != w.V {
			t.Fatal("value mutated after PutState")
		}
	}
	// Every record value parses and carries its leaf index.
	for i, c := range rs {
		v, err := DecodeRecordValue(s1.writes[recordKeyOf(c)])
		if err != nil || v.LeafIndex != uint64(i) || v.BatchID != "batch-42" {
			t.Fatalf("record %d: %+v %v", i, v, err)
		}
	}
}

func TestTimestampFromTransactionOnly(t *testing.T) {
	l := newLedger()
	s := l.tx(t, platform, "tx1", "PutBatch", batchJSON("b1", root1, recs("r", 1)))
	s.ts.Seconds, s.ts.Nanos = 0, 0
	p := mustOK(t, s.invoke(New(nil)))
	if !bytes.Contains(p, []byte(`"ts":"1970-01-01T00:00:00Z"`)) {
		t.Fatalf("timestamp not taken from the transaction: %s", p)
	}
}

func TestReadsAndSmallFunctions(t *testing.T) {
	l := newLedger()
	cc := New(nil)
	c := commitment("nope")
	mustErr(t, l.tx(t, "BankMSP", "t", "GetRecord", c).invoke(cc), `[not_found] record `+c+` not found`)
	mustErr(t, l.tx(t, "BankMSP", "t", "GetBatch", "nope").invoke(cc), `[not_found] batch "nope" not found`)
	mustErr(t, l.tx(t, "BankMSP", "t", "GetRecord", "r1").invoke(cc), `[bad_argument] commitment must be 64 lowercase hex characters, got 2`)
	mustErr(t, l.tx(t, "BankMSP", "t", "GetBatch", "").invoke(cc), `[bad_argument] batch id "": must match ^[A-Za-z0-9._:-]{1,128}$`)
	l.state[recordKeyOf(c)] = []byte("\x80\x00b")
	mustErr(t, l.tx(t, "BankMSP", "t", "GetRecord", c).invoke(cc), `[corrupt_value] record `+c+`: stored value is corrupt: [corrupt_value] record value: leaf index is not a minimal varint`)

	// Ping: read-only, fixed answer, any MSP, refuses any argument (no caller bytes on chain).
	s := l.tx(t, "BankMSP", "t", "Ping")
	if p := mustOK(t, s.invoke(cc)); string(p) != "pong" || len(s.writes) != 0 || len(s.reads) != 0 {
		t.Fatalf("Ping: %q, %d writes, %d reads", p, len(s.writes), len(s.reads))
	}
	mustErr(t, l.tx(t, "BankMSP", "t", "Ping", "hello").invoke(cc), `[bad_argument] Ping: expected no argument, got 1`)
	// Echo is gone.
	mustErr(t, l.tx(t, "BankMSP", "t", "Echo", "x").invoke(cc), `[unknown_function] unknown function "Echo"; known functions: PutBatch, AnchorCheckpoint, GetRecord, GetBatch, GetCheckpoint, Ping, Touch`)

	s = l.tx(t, platform, "txA", "Touch", "hot")
	mustOK(t, s.invoke(cc))
	if got := s.writeSet(); len(got) != 1 || got[0] != (kv{"\x00touch\x00hot\x00", "txA"}) {
		t.Fatalf("Touch wrote %q", got)
	}
	if len(s.reads) != 1 || s.reads[0] != "\x00touch\x00hot\x00" {
		t.Fatalf("Touch must read its key (for MVCC conflicts), read %q", s.reads)
	}
	s = l.tx(t, platform, "txB", "Touch", "hot")
	mustOK(t, s.invoke(cc))
	if string(l.state["\x00touch\x00hot\x00"]) != "txB" {
		t.Fatal("second Touch did not write the same key")
	}
	mustErr(t, l.tx(t, platform, "t", "Touch", "a\x00b").invoke(cc), `[bad_argument] key "a\x00b": must match ^[A-Za-z0-9._:-]{1,128}$`)

	known := "known functions: PutBatch, AnchorCheckpoint, GetRecord, GetBatch, GetCheckpoint, Ping, Touch"
	mustErr(t, l.tx(t, platform, "t", "Nope").invoke(cc), `[unknown_function] unknown function "Nope"; `+known)
	mustErr(t, l.tx(t, platform, "t").invoke(cc), `[unknown_function] no function name given; `+known)
	mustErr(t, l.tx(t, platform, "t", "PutBatch").invoke(cc), `[bad_argument] PutBatch: expected the batch JSON as argument 1 or in transient field "batch", got neither`)
	mustErr(t, l.tx(t, platform, "t", "PutBatch", "a", "b").invoke(cc), `[bad_argument] PutBatch: expected 1 argument (batchJSON), got 2`)
	mustErr(t, l.tx(t, platform, "t", "GetRecord", "a", "b").invoke(cc), `[bad_argument] GetRecord: expected 1 argument (commitmentHex), got 2`)
	mustErr(t, l.tx(t, platform, "t", "GetBatch").invoke(cc), `[bad_argument] GetBatch: expected 1 argument (batchID), got 0`)
	mustErr(t, l.tx(t, platform, "t", "Touch").invoke(cc), `[bad_argument] Touch: expected 1 argument (key), got 0`)

	if r := cc.Init(l.tx(t, platform, "t")); r.Status != shim.OK {
		t.Fatal("Init failed")
	}
}

func TestCompositeKeysMatchShim(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-"
	for i := 0; i < 1000; i++ {
		b := make([]byte, 1+rng.Intn(MaxIDLen))
		for j := range b {
			b[j] = alphabet[rng.Intn(len(alphabet))]
		}
		if !validID(b) {
			t.Fatalf("%q rejected", b)
		}
		for _, typ := range []string{BatchObjectType, RecordObjectType, TouchObjectType} {
			want, err := shim.CreateCompositeKey(typ, []string{string(b)})
			if err != nil || compositeKey(typ, b) != want {
				t.Fatalf("key mismatch for %q: %q vs %q (%v)", b, compositeKey(typ, b), want, err)
			}
		}
	}
}

func BenchmarkPutBatch10000(b *testing.B) {
	benchmarkPutBatch(b, 10000)
}

func BenchmarkPutBatch50000(b *testing.B) {
	benchmarkPutBatch(b, 50000)
}

func benchmarkPutBatch(b *testing.B, n int) {
	in := []byte(batchJSON("bench-batch-000001", root1, recs("rec-00000000-", n)))
	args := [][]byte{[]byte("PutBatch"), in}
	cc := New(nil)
	creator := creatorBytes(b, platform)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l := &memLedger{state: map[string][]byte{}}
		s := l.txBytes(b, platform, "tx", args)
		s.creator = creator
		s.writes = make(map[string][]byte, n+1)
		if r := cc.Invoke(s); r.Status != shim.OK {
			b.Fatal(r.Message)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func TestPutBatchFromTransientWritesTheSameAsFromArgument(t *testing.T) {
	cc := New(nil)
	rs := recs("r", 5)
	arg := batchJSON("b1", root1, rs)

	byArg := newLedger()
	viaArg := byArg.tx(t, platform, "tx1", "PutBatch", arg)
	payloadArg := mustOK(t, viaArg.invoke(cc))

	byTransient := newLedger()
	viaTransient := byTransient.tx(t, platform, "tx1", "PutBatch")
	viaTransient.transient = map[string][]byte{TransientBatchField: []byte(arg)}
	payloadTransient := mustOK(t, viaTransient.invoke(cc))

	if !bytes.Equal(payloadArg, payloadTransient) {
		t.Fatalf("payloads differ:\n%s\n%s", payloadArg, payloadTransient)
	}
	if fmt.Sprint(viaArg.writeSet()) != fmt.Sprint(viaTransient.writeSet()) {
		t.Fatal("write sets differ between argument and transient delivery")
	}
	if len(viaTransient.writeSet()) != 1+len(rs) {
		t.Fatalf("want %d writes, got %d", 1+len(rs), len(viaTransient.writeSet()))
	}
	// Other transient fields are ignored; the batch field is required.
	other := newLedger().tx(t, platform, "tx2", "PutBatch")
	other.transient = map[string][]byte{"something": []byte(arg)}
	mustErr(t, other.invoke(cc), `[bad_argument] PutBatch: expected the batch JSON as argument 1 or in transient field "batch", got neither`)
}
