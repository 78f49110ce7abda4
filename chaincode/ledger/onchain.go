package ledger

// The on-chain layout (format v3) — the only Go owner of keys, values, the PutBatch
// argument and the refusal codes. Its Python twin is verify/src/credit_ledger_verify/onchain.py;
// tests/data/onchain/*.json pins the two together (onchain_vectors_test.go walks it).
//
//	\x00rec\x00<commitment, base64url>\x00  uvarint leaf index (minimal) ‖ batch id
//	\x00batch\x00<batch id>\x00              {"batch_id","root","size","tx_id","msp","ts"}
//	\x00touch\x00<key>\x00                   <tx id>
//
// A record's key is its salted commitment, so nothing on chain names the client's record
// id or the record's subject. In the key the commitment is unpadded base64url (RFC 4648
// §5): 43 characters, canonical only (the last one's 2 spare bits are zero), 49 bytes per
// key. Every key is in a peer's read set, write set and state database, so its length is a
// large share of the peers' work per record. PutBatch's argument (transient) and GetRecord
// keep the commitment as 64 lowercase hex.

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"
)

// Composite-key object types.
const (
	BatchObjectType  = "batch"
	RecordObjectType = "rec"
	TouchObjectType  = "touch"
)

// IDPattern is the pattern every batch id, Touch key, tx id and MSP id in a batch value
// must match.
const IDPattern = `^[A-Za-z0-9._:-]{1,128}$`

const (
	// MaxIDLen is the maximum length of an id in bytes.
	MaxIDLen = 128
	// HexLen is the length of a root or commitment: a SHA-256 digest as lowercase hex.
	HexLen = 64
	// CommitmentLen is the size of a commitment (SHA-256) in bytes.
	CommitmentLen = 32
	// KeyCommitmentLen is the length of a commitment in a record key: unpadded base64url
	// of CommitmentLen bytes.
	KeyCommitmentLen = 43
	// RecordKeyLen is the length of a record key: "\x00rec\x00" + 43 characters + "\x00".
	RecordKeyLen = len(RecordObjectType) + KeyCommitmentLen + 3
	// MaxRecords is the maximum number of records in one batch; leaf indexes are below it.
	MaxRecords = 50000
)

// Refusal codes: every error message of the chaincode starts with "[code] ".
const (
	CodeBadArgument      = "bad_argument"
	CodeNotWriter        = "not_writer"
	CodeDuplicateInBatch = "duplicate_in_batch"
	CodeBatchExists      = "batch_exists"
	CodeRecordExists     = "record_exists"
	CodeNotFound         = "not_found"
	CodeCorruptValue     = "corrupt_value"
	CodeUnknownFunction  = "unknown_function"
	CodeInternal         = "internal"
)

// Refusal is an error with a refusal code; Error() is "[code] message".
type Refusal struct {
	Code string
	Msg  string
}

func (r *Refusal) Error() string { return "[" + r.Code + "] " + r.Msg }

func refuse(code, format string, args ...any) *Refusal {
	return &Refusal{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// RefusalCode returns the code of err (CodeInternal for an error that carries none).
func RefusalCode(err error) string {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Code
	}
	return CodeInternal
}

// -- keys -------------------------------------------------------------------------------------

// appendCompositeKey appends shim.CreateCompositeKey(objectType, []string{id}):
// "\x00" + objectType + "\x00" + id + "\x00". id must already be checked (id pattern), which makes shim's UTF-8 / U+0000 / U+10FFFF checks redundant.
func appendCompositeKey[T ~string | ~[]byte](dst []byte, objectType string, id T) []byte {
	dst = append(dst, 0)
	dst = append(dst, objectType...)
	dst = append(dst, 0)
	dst = append(dst, id...)
	return append(dst, 0)
}

func compositeKey[T ~string | ~[]byte](objectType string, id T) string {
	return string(appendCompositeKey(make([]byte, 0, len(objectType)+len(id)+3), objectType, id))
}

// keyEncoding writes and reads the commitment in a record key. Strict refuses a last
// character with non-zero spare bits, so each commitment has exactly one key.
var keyEncoding = base64.RawURLEncoding.Strict()

// appendRecordKey appends the state key of the record with commitment c.
func appendRecordKey(dst []byte, c *[CommitmentLen]byte) []byte {
	dst = append(dst, 0)
	dst = append(dst, RecordObjectType...)
	dst = append(dst, 0)
	dst = keyEncoding.AppendEncode(dst, c[:])
	return append(dst, 0)
}

// RecordKey is the state key of the record with this commitment.
func RecordKey(commitment [CommitmentLen]byte) string {
	return string(appendRecordKey(make([]byte, 0, RecordKeyLen), &commitment))
}

// BatchKey is the state key of a batch.
func BatchKey(batchID string) string { return compositeKey(BatchObjectType, batchID) }

// ParseRecordKey returns the commitment a record key names, strictly (43 canonical
// base64url characters).
func ParseRecordKey(key string) ([CommitmentLen]byte, error) {
	const prefix = "\x00" + RecordObjectType + "\x00"
	var c [CommitmentLen]byte
	if len(key) < len(prefix)+1 || key[:len(prefix)] != prefix || key[len(key)-1] != 0 {
		return c, refuse(CodeCorruptValue, "record key %s is not \\x00rec\\x00<commitment>\\x00", quote(key))
	}
	text := key[len(prefix) : len(key)-1]
	// The length check comes first: the decoder skips '\r' and '\n', and n == 32 below
	// would not catch a 44-character text holding one of them.
	if len(text) != KeyCommitmentLen {
		return c, refuse(CodeCorruptValue, "record key: commitment must be %d base64url characters, got %d", KeyCommitmentLen, len(text))
	}
	if n, err := keyEncoding.Decode(c[:], []byte(text)); err != nil || n != CommitmentLen {
		return c, refuse(CodeCorruptValue, "record key: commitment %s is not canonical unpadded base64url (RFC 4648 §5)", quote(text))
	}
	return c, nil
}

// -- record values ----------------------------------------------------------------------------

// RecordValue is the decoded value stored under a record key.
//
// On chain it is binary — leaf index (unsigned varint, minimal) ‖ batch id (ASCII, the rest
// of the value) — because every record key is written, validated, committed and compacted
// by every peer: at thousands of records per transaction the value's size is a large share
// of the peers' work (see README). The commitment is the key, so it is not repeated here.
type RecordValue struct {
	LeafIndex uint64
	BatchID   string
}

// AppendRecordValue appends the encoding of (leafIndex, batchID) to dst.
func AppendRecordValue[T ~string | ~[]byte](dst []byte, leafIndex uint64, batchID T) []byte {
	dst = binary.AppendUvarint(dst, leafIndex)
	return append(dst, batchID...)
}

// DecodeRecordValue decodes a record value strictly (minimal varint below MaxRecords,
// id pattern).
func DecodeRecordValue(v []byte) (RecordValue, error) {
	var rv RecordValue
	idx, n := binary.Uvarint(v)
	if n <= 0 || n > 3 {
		return rv, refuse(CodeCorruptValue, "record value: leaf index varint is truncated or too long")
	}
	if n > 1 && v[n-1] == 0 {
		return rv, refuse(CodeCorruptValue, "record value: leaf index is not a minimal varint")
	}
	if idx >= MaxRecords {
		return rv, refuse(CodeCorruptValue, "record value: leaf index %d is not below %d", idx, MaxRecords)
	}
	id := v[n:]
	if !validID(id) {
		return rv, refuse(CodeCorruptValue, "record value: %v", idError("batch id", id))
	}
	return RecordValue{LeafIndex: idx, BatchID: string(id)}, nil
}

// -- batch values -----------------------------------------------------------------------------

// BatchValue is the JSON value stored under the batch key (field order is the
// serialization order).
type BatchValue struct {
	BatchID string `json:"batch_id"`
	Root    string `json:"root"`
	Size    int    `json:"size"`
	TxID    string `json:"tx_id"`
	MSP     string `json:"msp"`
	TS      string `json:"ts"`
}

// timeLayout is RFC 3339 with nanoseconds, trailing zeros trimmed (time.RFC3339Nano).
const timeLayout = "2006-01-02T15:04:05.999999999Z07:00"

// tsPattern is what timeLayout produces in UTC (no trailing zero in the fraction).
var tsPattern = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{0,8}[1-9])?Z$`)

var batchFields = []string{"batch_id", "root", "size", "tx_id", "msp", "ts"}

// DecodeBatchValue decodes a batch value strictly: UTF-8, one JSON object with exactly the
// six fields (no duplicates), each of the right type and pattern, nothing trailing.
func DecodeBatchValue(v []byte) (BatchValue, error) {
	var bv BatchValue
	fields, err := strictObject(v, batchFields)
	if err != nil {
		return bv, refuse(CodeCorruptValue, "batch value: %v", err)
	}
	str := func(name string, ok func(string) bool) (string, error) {
		var s string
		if err := json.Unmarshal(fields[name], &s); err != nil {
			return "", refuse(CodeCorruptValue, "batch value: %s must be a string, found %s", name, jsonKind(fields[name]))
		}
		if !ok(s) {
			return "", refuse(CodeCorruptValue, "batch value: %s: bad value %s", name, quote(s))
		}
		return s, nil
	}
	isID := func(s string) bool { return validID(s) }
	isHex := func(s string) bool { return checkHex(s) == "" }
	if bv.BatchID, err = str("batch_id", isID); err != nil {
		return bv, err
	}
	if bv.Root, err = str("root", isHex); err != nil {
		return bv, err
	}
	size := fields["size"]
	n, convErr := strconv.Atoi(string(size))
	if convErr != nil || len(size) == 0 || size[0] < '1' || size[0] > '9' || n < 1 || n > MaxRecords {
		return bv, refuse(CodeCorruptValue, "batch value: size must be an integer 1..%d, got %.40s", MaxRecords, size)
	}
	bv.Size = n
	if bv.TxID, err = str("tx_id", isID); err != nil {
		return bv, err
	}
	if bv.MSP, err = str("msp", isID); err != nil {
		return bv, err
	}
	if bv.TS, err = str("ts", validTimestamp); err != nil {
		return bv, err
	}
	return bv, nil
}

func validTimestamp(s string) bool {
	m := tsPattern.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	_, err := time.Parse("2006-01-02T15:04:05", m[1])
	return err == nil
}

// strictObject splits one JSON object into its fields' raw values, refusing invalid UTF-8,
// duplicate, unknown or missing fields and trailing data.
func strictObject(data []byte, allowed []string) (map[string]json.RawMessage, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("must be a JSON object")
	}
	out := make(map[string]json.RawMessage, len(allowed))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not JSON: %v", err)
		}
		key := tok.(string) // object keys are always strings
		known := false
		for _, a := range allowed {
			known = known || a == key
		}
		if !known {
			return nil, fmt.Errorf("unknown field %s", quote(key))
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("duplicate field %s", quote(key))
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("not JSON: %v", err)
		}
		out[key] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if rest := bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return nil, errors.New("unexpected data after the object")
	}
	for _, a := range allowed {
		if _, ok := out[a]; !ok {
			return nil, fmt.Errorf("missing field %s", quote(a))
		}
	}
	return out, nil
}

func jsonKind(raw json.RawMessage) string {
	p := parser{b: raw}
	return p.found()
}

// -- the PutBatch argument --------------------------------------------------------------------

// batchInput is a parsed PutBatch argument. Byte slices alias the input buffer (or hold an
// unescaped copy when the JSON string contained escapes).
type batchInput struct {
	BatchID []byte
	Root    []byte
	// Commitments in leaf order, each 64 lowercase hex once validated.
	Commitments [][]byte
	// Raw holds Commitments decoded, filled by validateBatch.
	Raw [][CommitmentLen]byte
}

// validateBatch checks the parsed argument in a fixed order — batch id, root, number of
// records, then each record (hex, then not seen earlier in the batch) — the order
// onchain.py's decode_put_batch follows, so both refuse the same input the same way.
func validateBatch(in *batchInput) error {
	if !validID(in.BatchID) {
		return refuse(CodeBadArgument, "%v", idError("batch_id", in.BatchID))
	}
	if msg := checkHex(in.Root); msg != "" {
		return refuse(CodeBadArgument, "root: must be %d lowercase hex characters, %s", HexLen, msg)
	}
	if len(in.Commitments) == 0 {
		return refuse(CodeBadArgument, "records: must contain at least 1 record, got 0")
	}
	// Arrays as map keys: no allocation per record.
	seen := make(map[[CommitmentLen]byte]int32, len(in.Commitments))
	in.Raw = make([][CommitmentLen]byte, len(in.Commitments))
	for i, c := range in.Commitments {
		if msg := checkHex(c); msg != "" {
			return refuse(CodeBadArgument, "records[%d]: commitment must be %d lowercase hex characters, %s", i, HexLen, msg)
		}
		raw := &in.Raw[i]
		decodeHex(raw, c)
		if first, dup := seen[*raw]; dup {
			return refuse(CodeDuplicateInBatch, "records[%d]: duplicate commitment %s (first at records[%d])", i, c, first)
		}
		seen[*raw] = int32(i)
	}
	return nil
}

// decodeHex decodes c, already checked by checkHex, into dst.
func decodeHex[T ~string | ~[]byte](dst *[CommitmentLen]byte, c T) {
	for j := range dst {
		dst[j] = unhex(c[2*j])<<4 | unhex(c[2*j+1])
	}
}

func unhex(b byte) byte {
	if b <= '9' {
		return b - '0'
	}
	return b - 'a' + 10
}

// decodeBatch parses and validates a PutBatch argument (every error a Refusal).
func decodeBatch(data []byte) (*batchInput, error) {
	in, err := parseBatch(data)
	if err != nil {
		return nil, refuse(CodeBadArgument, "%v", err)
	}
	if err := validateBatch(in); err != nil {
		return nil, err
	}
	return in, nil
}

// DecodePutBatch parses and validates a PutBatch argument exactly as PutBatch does.
func DecodePutBatch(data []byte) (batchID, root string, commitments []string, err error) {
	in, err := decodeBatch(data)
	if err != nil {
		return "", "", nil, err
	}
	commitments = make([]string, len(in.Commitments))
	for i, c := range in.Commitments {
		commitments[i] = string(c)
	}
	return string(in.BatchID), string(in.Root), commitments, nil
}

// -- the PutBatch argument: a strict, allocation-light JSON parser ---------------------------

// parseBatch is a strict, allocation-light parser for
//
//	{"batch_id": "...", "root": "...", "records": ["commitment", ...]}
//
// It accepts any standard JSON encoding of that shape (any key order, whitespace,
// string escapes) and rejects: unknown or duplicate fields, missing fields, values of
// the wrong JSON type, record entries that are not strings, invalid UTF-8, more than
// MaxRecords records, and trailing data. Field names match exactly (case-sensitive).
// Semantic checks (id pattern, hex) are done by validate, not here.
func parseBatch(data []byte) (*batchInput, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("invalid batch JSON: not valid UTF-8")
	}
	p := parser{b: data}
	in := &batchInput{}
	p.ws()
	if !p.eat('{') {
		return nil, p.errExpected("a JSON object")
	}
	var seenID, seenRoot, seenRecords bool
	p.ws()
	if !p.eat('}') {
		for {
			p.ws()
			if p.peek() != '"' {
				return nil, p.errExpected("an object key (string)")
			}
			key, err := p.str()
			if err != nil {
				return nil, err
			}
			p.ws()
			if !p.eat(':') {
				return nil, p.errExpected("':'")
			}
			p.ws()
			switch string(key) {
			case "batch_id":
				if seenID {
					return nil, errors.New(`invalid batch JSON: duplicate field "batch_id"`)
				}
				seenID = true
				if in.BatchID, err = p.strField("batch_id"); err != nil {
					return nil, err
				}
			case "root":
				if seenRoot {
					return nil, errors.New(`invalid batch JSON: duplicate field "root"`)
				}
				seenRoot = true
				if in.Root, err = p.strField("root"); err != nil {
					return nil, err
				}
			case "records":
				if seenRecords {
					return nil, errors.New(`invalid batch JSON: duplicate field "records"`)
				}
				seenRecords = true
				if in.Commitments, err = p.records(); err != nil {
					return nil, err
				}
			default:
				return nil, fmt.Errorf("invalid batch JSON: unknown field %s (allowed: batch_id, root, records)", quote(key))
			}
			p.ws()
			if p.eat(',') {
				continue
			}
			if p.eat('}') {
				break
			}
			return nil, p.errExpected("',' or '}'")
		}
	}
	p.ws()
	if p.i != len(p.b) {
		return nil, fmt.Errorf("invalid batch JSON at offset %d: unexpected data after the batch object", p.i)
	}
	switch {
	case !seenID:
		return nil, errors.New(`invalid batch JSON: missing field "batch_id"`)
	case !seenRoot:
		return nil, errors.New(`invalid batch JSON: missing field "root"`)
	case !seenRecords:
		return nil, errors.New(`invalid batch JSON: missing field "records"`)
	}
	return in, nil
}

type parser struct {
	b []byte
	i int
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *parser) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// found names the JSON value (or character) at the current position.
func (p *parser) found() string {
	if p.i >= len(p.b) {
		return "end of input"
	}
	switch c := p.b[p.i]; {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 'n':
		return "null"
	case c == 't' || c == 'f':
		return "boolean"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	default:
		return "character " + describeByte(c)
	}
}

func (p *parser) errExpected(what string) error {
	if p.i >= len(p.b) {
		return fmt.Errorf("invalid batch JSON: unexpected end of input, expected %s", what)
	}
	return fmt.Errorf("invalid batch JSON at offset %d: expected %s, found %s", p.i, what, p.found())
}

// strField reads a string value of a top-level field.
func (p *parser) strField(name string) ([]byte, error) {
	if p.peek() != '"' {
		return nil, fmt.Errorf("invalid batch JSON: %s must be a string, found %s", name, p.found())
	}
	return p.str()
}

// str reads a JSON string at p.i (which must be '"'). Without escapes the result
// aliases the input; with escapes it is decoded by encoding/json.
func (p *parser) str() ([]byte, error) {
	start := p.i
	p.i++ // opening quote
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start+1 : p.i : p.i]
			p.i++
			return s, nil
		case c == '\\':
			return p.escapedStr(start)
		case c < 0x20:
			return nil, fmt.Errorf("invalid batch JSON at offset %d: control character %s in string", p.i, describeByte(c))
		}
		p.i++
	}
	return nil, fmt.Errorf("invalid batch JSON at offset %d: unterminated string", start)
}

func (p *parser) escapedStr(start int) ([]byte, error) {
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '\\':
			p.i += 2
			continue
		case c == '"':
			p.i++
			var s string
			if err := json.Unmarshal(p.b[start:p.i], &s); err != nil {
				return nil, fmt.Errorf("invalid batch JSON at offset %d: bad string: %v", start, err)
			}
			return []byte(s), nil
		case c < 0x20:
			return nil, fmt.Errorf("invalid batch JSON at offset %d: control character %s in string", p.i, describeByte(c))
		}
		p.i++
	}
	return nil, fmt.Errorf("invalid batch JSON at offset %d: unterminated string", start)
}

func (p *parser) records() ([][]byte, error) {
	if !p.eat('[') {
		return nil, fmt.Errorf("invalid batch JSON: records must be an array of commitment strings, found %s", p.found())
	}
	// Rough size guess: a record is ~67 bytes of JSON.
	est := (len(p.b)-p.i)/66 + 1
	if est > MaxRecords {
		est = MaxRecords
	}
	recs := make([][]byte, 0, est)
	p.ws()
	if p.eat(']') {
		return recs, nil
	}
	for n := 0; ; n++ {
		if n >= MaxRecords {
			return nil, fmt.Errorf("records: too many records (more than %d); split the batch", MaxRecords)
		}
		p.ws()
		if p.peek() != '"' {
			return nil, fmt.Errorf("invalid batch JSON: records[%d] must be a commitment string, found %s", n, p.found())
		}
		c, err := p.str()
		if err != nil {
			return nil, err
		}
		recs = append(recs, c)
		p.ws()
		if p.eat(',') {
			continue
		}
		if p.eat(']') {
			return recs, nil
		}
		return nil, p.errExpected("',' or ']' in records")
	}
}

// -- ids and hex ------------------------------------------------------------------------------

var idChar, hexChar [256]bool

func init() {
	for c := 'a'; c <= 'z'; c++ {
		idChar[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		idChar[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		idChar[c] = true
		hexChar[c] = true
	}
	for _, c := range "._:-" {
		idChar[c] = true
	}
	for c := 'a'; c <= 'f'; c++ {
		hexChar[c] = true
	}
}

// validID reports whether s matches IDPattern.
func validID[T ~string | ~[]byte](s T) bool {
	if len(s) == 0 || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !idChar[s[i]] {
			return false
		}
	}
	return true
}

// idError formats `<what> "<value>": must match <pattern>`; long values are truncated.
func idError[T ~string | ~[]byte](what string, s T) error {
	return fmt.Errorf("%s %s: must match %s", what, quote(s), IDPattern)
}

// quote renders a (possibly hostile) value for an error message: Go-quoted, at most
// 140 bytes of it, and marks truncation.
func quote[T ~string | ~[]byte](s T) string {
	const max = 140
	if len(s) > max {
		return strconv.Quote(string(s[:max])) + "..." + "(" + strconv.Itoa(len(s)) + " bytes)"
	}
	return strconv.Quote(string(s))
}

// checkHex returns "" if s is exactly 64 lowercase hex characters, else a description
// of the problem ("got 63", "got invalid character 'G' at position 5").
func checkHex[T ~string | ~[]byte](s T) string {
	if len(s) != HexLen {
		return "got " + strconv.Itoa(len(s))
	}
	for i := 0; i < len(s); i++ {
		if !hexChar[s[i]] {
			return fmt.Sprintf("got invalid character %s at position %d", describeByte(s[i]), i)
		}
	}
	return ""
}

// describeByte renders one input byte for an error message.
func describeByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}
