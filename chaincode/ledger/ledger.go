// Package ledger implements the credit-ledger chaincode on the low-level Fabric shim.
//
// See ../README.md for the functions, error messages and the exact key/value layout.
package ledger

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
)

// Composite-key object types.
const (
	BatchObjectType  = "batch"
	RecordObjectType = "rec"
	TouchObjectType  = "touch"
)

// EventBatchAnchored is the chaincode event set by PutBatch.
const EventBatchAnchored = "BatchAnchored"

// DefaultWriterMSPs is used when no writer MSPs are configured.
var DefaultWriterMSPs = []string{"PlatformMSP"}

// Chaincode is the credit-ledger chaincode. It implements shim.Chaincode.
type Chaincode struct {
	writers     map[string]bool
	writersList string
}

var _ shim.Chaincode = (*Chaincode)(nil)

// New returns the chaincode; writerMSPs are the MSP ids allowed to call PutBatch and
// Touch (DefaultWriterMSPs if empty).
func New(writerMSPs []string) *Chaincode {
	if len(writerMSPs) == 0 {
		writerMSPs = DefaultWriterMSPs
	}
	cc := &Chaincode{writers: make(map[string]bool, len(writerMSPs))}
	for _, m := range writerMSPs {
		cc.writers[m] = true
	}
	cc.writersList = strings.Join(writerMSPs, ", ")
	return cc
}

// Init does nothing.
func (cc *Chaincode) Init(shim.ChaincodeStubInterface) *peer.Response {
	return shim.Success(nil)
}

// KnownFunctions lists the functions Invoke dispatches, in documentation order.
var KnownFunctions = []string{"PutBatch", "GetRecord", "GetBatch", "Echo", "Touch"}

// Invoke dispatches on args[0].
func (cc *Chaincode) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	args := stub.GetArgs()
	if len(args) == 0 {
		return shim.Error("no function name given; known functions: " + strings.Join(KnownFunctions, ", "))
	}
	fn, params := string(args[0]), args[1:]
	var (
		payload []byte
		err     error
	)
	switch fn {
	case "PutBatch":
		var arg []byte
		if arg, err = batchArgument(stub, params); err == nil {
			payload, err = cc.putBatch(stub, arg)
		}
	case "GetRecord":
		if err = wantArgs(fn, params, "recordID"); err == nil {
			payload, err = getRecord(stub, params[0])
		}
	case "GetBatch":
		if err = wantArgs(fn, params, "batchID"); err == nil {
			payload, err = getBatch(stub, params[0])
		}
	case "Echo":
		if err = wantArgs(fn, params, "arg"); err == nil {
			payload = params[0]
		}
	case "Touch":
		if err = wantArgs(fn, params, "key"); err == nil {
			payload, err = cc.touch(stub, params[0])
		}
	default:
		err = fmt.Errorf("unknown function %s; known functions: %s", quote(fn), strings.Join(KnownFunctions, ", "))
	}
	if err != nil {
		return shim.Error(err.Error())
	}
	return shim.Success(payload)
}

// TransientBatchField is the transient-data field that may carry PutBatch's argument.
const TransientBatchField = "batch"

// batchArgument returns PutBatch's batch JSON: the one argument, or — with no argument —
// the transient field "batch". Transient data reaches the endorsers but is not kept in
// the committed transaction, so a batch sent that way is not stored on chain twice (once
// as the argument, once as the write set).
func batchArgument(stub shim.ChaincodeStubInterface, params [][]byte) ([]byte, error) {
	switch len(params) {
	case 1:
		return params[0], nil
	case 0:
		transient, err := stub.GetTransient()
		if err != nil {
			return nil, fmt.Errorf("PutBatch: cannot read transient data: %v", err)
		}
		if arg, ok := transient[TransientBatchField]; ok {
			return arg, nil
		}
		return nil, fmt.Errorf("PutBatch: expected the batch JSON as argument 1 or in transient field %q, got neither", TransientBatchField)
	default:
		return nil, fmt.Errorf("PutBatch: expected 1 argument (batchJSON), got %d", len(params))
	}
}

func wantArgs(fn string, params [][]byte, name string) error {
	if len(params) != 1 {
		return fmt.Errorf("%s: expected 1 argument (%s), got %d", fn, name, len(params))
	}
	return nil
}

// compositeKey builds the same key as shim.CreateCompositeKey(objectType, []string{id})
// ("\x00" + objectType + "\x00" + id + "\x00"); id must already satisfy IDPattern, which
// makes shim's UTF-8 / U+0000 / U+10FFFF checks redundant.
func appendCompositeKey(dst []byte, objectType string, id []byte) []byte {
	dst = append(dst, 0)
	dst = append(dst, objectType...)
	dst = append(dst, 0)
	dst = append(dst, id...)
	return append(dst, 0)
}

func compositeKey(objectType string, id []byte) string {
	return string(appendCompositeKey(make([]byte, 0, len(objectType)+len(id)+3), objectType, id))
}

// creatorMSP returns the MSP id of the transaction creator.
func creatorMSP(stub shim.ChaincodeStubInterface) (string, error) {
	creator, err := stub.GetCreator()
	if err != nil {
		return "", fmt.Errorf("cannot read the caller identity: %v", err)
	}
	if len(creator) == 0 {
		return "", errors.New("cannot read the caller identity: creator is empty")
	}
	var id msp.SerializedIdentity
	if err := proto.Unmarshal(creator, &id); err != nil {
		return "", fmt.Errorf("cannot read the caller identity: %v", err)
	}
	if id.Mspid == "" {
		return "", errors.New("cannot read the caller identity: MSP id is empty")
	}
	return id.Mspid, nil
}

func (cc *Chaincode) checkWriter(stub shim.ChaincodeStubInterface) (string, error) {
	m, err := creatorMSP(stub)
	if err != nil {
		return "", err
	}
	if !cc.writers[m] {
		return "", fmt.Errorf("writer MSP %s is not allowed to write (allowed: %s)", quote(m), cc.writersList)
	}
	return m, nil
}

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

// BatchEvent is the payload of the BatchAnchored event.
type BatchEvent struct {
	BatchID string `json:"batch_id"`
	Root    string `json:"root"`
	Size    int    `json:"size"`
}

// RecordValue is the decoded value stored under a record key.
//
// On chain it is binary, not JSON — commitment (32 raw bytes) ‖ leaf index (unsigned
// varint, minimal) ‖ batch id (ASCII, the rest of the value) — because every record key
// is written, validated, committed and compacted by every peer: at thousands of records
// per transaction the value's size is a large share of the peers' work (see README).
type RecordValue struct {
	Commitment [CommitmentLen]byte
	LeafIndex  uint64
	BatchID    string
}

// CommitmentLen is the size of a commitment (SHA-256) in a record value.
const CommitmentLen = 32

// AppendRecordValue appends the encoding of (commitment, leafIndex, batchID) to dst;
// commitmentHex must already have passed checkHex.
func AppendRecordValue[T ~string | ~[]byte](dst []byte, commitmentHex T, leafIndex uint64, batchID T) []byte {
	var c [CommitmentLen]byte
	for i := range c {
		c[i] = unhex(commitmentHex[2*i])<<4 | unhex(commitmentHex[2*i+1])
	}
	dst = append(dst, c[:]...)
	dst = binary.AppendUvarint(dst, leafIndex)
	return append(dst, batchID...)
}

func unhex(b byte) byte {
	if b <= '9' {
		return b - '0'
	}
	return b - 'a' + 10
}

// DecodeRecordValue decodes a record value strictly (minimal varint, id pattern).
func DecodeRecordValue(v []byte) (RecordValue, error) {
	var rv RecordValue
	if len(v) < CommitmentLen+2 {
		return rv, fmt.Errorf("record value is %d bytes, shorter than the minimum %d", len(v), CommitmentLen+2)
	}
	copy(rv.Commitment[:], v)
	idx, n := binary.Uvarint(v[CommitmentLen:])
	if n <= 0 || (n > 1 && v[CommitmentLen+n-1] == 0) {
		return rv, errors.New("record value: leaf index is not a minimal unsigned varint")
	}
	rv.LeafIndex = idx
	id := v[CommitmentLen+n:]
	if !validID(id) {
		return rv, fmt.Errorf("record value: %v", idError("batch id", id))
	}
	rv.BatchID = string(id)
	return rv, nil
}

// RecordView is what GetRecord returns.
type RecordView struct {
	RecordID   string `json:"record_id"`
	Commitment string `json:"commitment"`
	BatchID    string `json:"batch_id"`
	LeafIndex  uint64 `json:"leaf_index"`
}

func validateBatch(in *batchInput) error {
	if !validID(in.BatchID) {
		return idError("batch_id", in.BatchID)
	}
	if msg := checkHex(in.Root); msg != "" {
		return fmt.Errorf("root: must be %d lowercase hex characters, %s", HexLen, msg)
	}
	if len(in.Records) == 0 {
		return errors.New("records: must contain at least 1 record, got 0")
	}
	if len(in.Records) > MaxRecords {
		return fmt.Errorf("records: too many records (%d, limit %d); split the batch", len(in.Records), MaxRecords)
	}
	for i := range in.Records {
		r := &in.Records[i]
		if !validID(r.ID) {
			return fmt.Errorf("records[%d]: %w", i, idError("record id", r.ID))
		}
		if msg := checkHex(r.Commitment); msg != "" {
			return fmt.Errorf("records[%d]: commitment must be %d lowercase hex characters, %s", i, HexLen, msg)
		}
	}
	return nil
}

func (cc *Chaincode) putBatch(stub shim.ChaincodeStubInterface, arg []byte) ([]byte, error) {
	mspID, err := cc.checkWriter(stub)
	if err != nil {
		return nil, err
	}
	in, err := parseBatch(arg)
	if err != nil {
		return nil, err
	}
	if err := validateBatch(in); err != nil {
		return nil, err
	}
	n := len(in.Records)

	// All keys in one buffer, converted to a string once: keys[0] is the batch key,
	// keys[1+i] the key of records[i].
	keyBytes := len(BatchObjectType) + len(in.BatchID) + 3
	for i := range in.Records {
		keyBytes += len(RecordObjectType) + len(in.Records[i].ID) + 3
	}
	kb := make([]byte, 0, keyBytes)
	ends := make([]int, 0, n+1)
	kb = appendCompositeKey(kb, BatchObjectType, in.BatchID)
	ends = append(ends, len(kb))
	for i := range in.Records {
		kb = appendCompositeKey(kb, RecordObjectType, in.Records[i].ID)
		ends = append(ends, len(kb))
	}
	all := string(kb)
	keys := make([]string, n+1)
	start := 0
	for i, e := range ends {
		keys[i] = all[start:e]
		start = e
	}

	// Duplicate ids within the batch (map keyed by substrings of `all`: no per-record
	// allocation).
	seen := make(map[string]int32, n)
	for i := 0; i < n; i++ {
		k := keys[i+1]
		if first, dup := seen[k]; dup {
			return nil, fmt.Errorf("records[%d]: duplicate record id %s (first at records[%d])", i, quote(in.Records[i].ID), first)
		}
		seen[k] = int32(i)
	}

	// No overwrite: the batch key and every record key must be absent. Reading them puts
	// them in the read set, so a concurrent transaction creating any of them makes one
	// of the two fail MVCC validation.
	vals, err := stub.GetMultipleStates(keys...)
	if err != nil {
		return nil, fmt.Errorf("reading existing state: %v", err)
	}
	if len(vals) != len(keys) {
		return nil, fmt.Errorf("reading existing state: got %d values for %d keys", len(vals), len(keys))
	}
	if vals[0] != nil {
		return nil, fmt.Errorf("batch %s already exists", quote(in.BatchID))
	}
	firstDup, dups := -1, 0
	for i, v := range vals[1:] {
		if v != nil {
			if firstDup < 0 {
				firstDup = i
			}
			dups++
		}
	}
	if firstDup >= 0 {
		other := "?"
		if rv, err := DecodeRecordValue(vals[1+firstDup]); err == nil {
			other = rv.BatchID
		}
		return nil, fmt.Errorf("record %s already anchored in batch %s (records[%d]; %d of %d records in this batch already anchored)",
			quote(in.Records[firstDup].ID), quote(other), firstDup, dups, n)
	}

	ts, err := stub.GetTxTimestamp()
	if err != nil {
		return nil, fmt.Errorf("reading transaction timestamp: %v", err)
	}
	if ts == nil {
		return nil, errors.New("reading transaction timestamp: missing")
	}
	batchID, root := string(in.BatchID), string(in.Root)
	batchVal, err := json.Marshal(BatchValue{
		BatchID: batchID,
		Root:    root,
		Size:    n,
		TxID:    stub.GetTxID(),
		MSP:     mspID,
		TS:      ts.AsTime().UTC().Format(timeLayout),
	})
	if err != nil {
		return nil, err
	}
	event, err := json.Marshal(BatchEvent{BatchID: batchID, Root: root, Size: n})
	if err != nil {
		return nil, err
	}

	// Record values, all in one buffer (see RecordValue for the layout).
	per := CommitmentLen + binary.MaxVarintLen32 + len(in.BatchID)
	vb := make([]byte, 0, n*per)

	stub.StartWriteBatch()
	if err := stub.PutState(keys[0], batchVal); err != nil {
		return nil, fmt.Errorf("writing batch: %v", err)
	}
	for i := range in.Records {
		s := len(vb)
		vb = AppendRecordValue(vb, in.Records[i].Commitment, uint64(i), in.BatchID)
		// Full slice expression: later appends (or a reallocation) never touch a value
		// already handed to PutState.
		if err := stub.PutState(keys[i+1], vb[s:len(vb):len(vb)]); err != nil {
			return nil, fmt.Errorf("writing records[%d]: %v", i, err)
		}
	}
	if err := stub.FinishWriteBatch(); err != nil {
		return nil, fmt.Errorf("writing batch: %v", err)
	}
	if err := stub.SetEvent(EventBatchAnchored, event); err != nil {
		return nil, fmt.Errorf("setting event: %v", err)
	}
	return batchVal, nil
}

// timeLayout is RFC 3339 with nanoseconds, trailing zeros trimmed (time.RFC3339Nano).
const timeLayout = "2006-01-02T15:04:05.999999999Z07:00"

func getRecord(stub shim.ChaincodeStubInterface, id []byte) ([]byte, error) {
	if !validID(id) {
		return nil, idError("record id", id)
	}
	v, err := stub.GetState(compositeKey(RecordObjectType, id))
	if err != nil {
		return nil, fmt.Errorf("reading record: %v", err)
	}
	if v == nil {
		return nil, fmt.Errorf("record %s not found", quote(id))
	}
	rv, err := DecodeRecordValue(v)
	if err != nil {
		return nil, fmt.Errorf("record %s: stored value is corrupt: %v", quote(id), err)
	}
	return json.Marshal(RecordView{
		RecordID:   string(id),
		Commitment: hex.EncodeToString(rv.Commitment[:]),
		BatchID:    rv.BatchID,
		LeafIndex:  rv.LeafIndex,
	})
}

func getBatch(stub shim.ChaincodeStubInterface, id []byte) ([]byte, error) {
	if !validID(id) {
		return nil, idError("batch id", id)
	}
	v, err := stub.GetState(compositeKey(BatchObjectType, id))
	if err != nil {
		return nil, fmt.Errorf("reading batch: %v", err)
	}
	if v == nil {
		return nil, fmt.Errorf("batch %s not found", quote(id))
	}
	return v, nil
}

func (cc *Chaincode) touch(stub shim.ChaincodeStubInterface, key []byte) ([]byte, error) {
	if _, err := cc.checkWriter(stub); err != nil {
		return nil, err
	}
	if !validID(key) {
		return nil, idError("key", key)
	}
	// Read before writing: Fabric's MVCC validation only looks at read sets, so a blind
	// write would never conflict. With the read, two transactions that touch the same
	// key concurrently conflict (the later one in block order is invalidated).
	k := compositeKey(TouchObjectType, key)
	if _, err := stub.GetState(k); err != nil {
		return nil, fmt.Errorf("reading touch key: %v", err)
	}
	txID := []byte(stub.GetTxID())
	if err := stub.PutState(k, txID); err != nil {
		return nil, fmt.Errorf("writing touch key: %v", err)
	}
	return txID, nil
}
