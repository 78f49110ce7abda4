// Package ledger implements the credit-ledger chaincode on the low-level Fabric shim.
//
// See ../README.md for the functions, error messages and the exact key/value layout.
package ledger

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
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
var KnownFunctions = []string{"PutBatch", "AnchorCheckpoint", "GetRecord", "GetBatch", "GetCheckpoint", "Ping", "Touch"}

// PingAnswer is what Ping returns.
const PingAnswer = "pong"

// Invoke dispatches on args[0]. Every error message starts with "[code] " (see Refusal).
func (cc *Chaincode) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	args := stub.GetArgs()
	if len(args) == 0 {
		return shim.Error(refuse(CodeUnknownFunction, "no function name given; known functions: %s", strings.Join(KnownFunctions, ", ")).Error())
	}
	fn, params := string(args[0]), args[1:]
	var (
		payload []byte
		err     error
	)
	switch fn {
	case "PutBatch":
		var arg []byte
		if arg, err = argumentOrTransient(stub, fn, params, TransientBatchField, "batch JSON", "batchJSON"); err == nil {
			payload, err = cc.putBatch(stub, arg)
		}
	case "AnchorCheckpoint":
		var arg []byte
		if arg, err = argumentOrTransient(stub, fn, params, TransientCheckpointField, "checkpoint JSON", "checkpointJSON"); err == nil {
			payload, err = cc.anchorCheckpoint(stub, arg)
		}
	case "GetCheckpoint":
		if err = wantArgs(fn, params, "size or head"); err == nil {
			payload, err = getCheckpoint(stub, params[0])
		}
	case "GetRecord":
		if err = wantArgs(fn, params, "commitmentHex"); err == nil {
			payload, err = getRecord(stub, params[0])
		}
	case "GetBatch":
		if err = wantArgs(fn, params, "batchID"); err == nil {
			payload, err = getBatch(stub, params[0])
		}
	case "Ping":
		// Read-only, constant answer: a readiness probe that carries no caller bytes.
		if len(params) != 0 {
			err = refuse(CodeBadArgument, "Ping: expected no argument, got %d", len(params))
		} else {
			payload = []byte(PingAnswer)
		}
	case "Touch":
		if err = wantArgs(fn, params, "key"); err == nil {
			payload, err = cc.touch(stub, params[0])
		}
	default:
		err = refuse(CodeUnknownFunction, "unknown function %s; known functions: %s", quote(fn), strings.Join(KnownFunctions, ", "))
	}
	if err != nil {
		var r *Refusal
		if !errors.As(err, &r) {
			err = refuse(CodeInternal, "%v", err)
		}
		return shim.Error(err.Error())
	}
	return shim.Success(payload)
}

// TransientBatchField is the transient-data field that may carry PutBatch's argument.
const TransientBatchField = "batch"

// TransientCheckpointField is the transient-data field that may carry AnchorCheckpoint's
// argument.
const TransientCheckpointField = "checkpoint"

// argumentOrTransient returns a writing function's JSON argument: the one argument, or —
// with no argument — the transient field named field. Transient data reaches the endorsers
// but is not kept in the committed transaction, so an argument sent that way is not stored
// on chain twice (once as the argument, once in the write set): PutBatch's records are its
// record keys; AnchorCheckpoint's note is in the checkpoint value, and its consistency proof
// and log key were checked by every endorser (a compact evidence bundle carries the
// transaction, so every byte left out of it counts).
func argumentOrTransient(stub shim.ChaincodeStubInterface, fn string, params [][]byte, field, what, name string) ([]byte, error) {
	switch len(params) {
	case 1:
		return params[0], nil
	case 0:
		transient, err := stub.GetTransient()
		if err != nil {
			return nil, refuse(CodeInternal, "%s: cannot read transient data: %v", fn, err)
		}
		if arg, ok := transient[field]; ok {
			return arg, nil
		}
		return nil, refuse(CodeBadArgument, "%s: expected the %s as argument 1 or in transient field %q, got neither", fn, what, field)
	default:
		return nil, refuse(CodeBadArgument, "%s: expected 1 argument (%s), got %d", fn, name, len(params))
	}
}

func wantArgs(fn string, params [][]byte, name string) error {
	if len(params) != 1 {
		return refuse(CodeBadArgument, "%s: expected 1 argument (%s), got %d", fn, name, len(params))
	}
	return nil
}

// creatorMSP returns the MSP id of the transaction creator.
func creatorMSP(stub shim.ChaincodeStubInterface) (string, error) {
	creator, err := stub.GetCreator()
	if err != nil {
		return "", refuse(CodeNotWriter, "cannot read the caller identity: %v", err)
	}
	if len(creator) == 0 {
		return "", refuse(CodeNotWriter, "cannot read the caller identity: creator is empty")
	}
	var id msp.SerializedIdentity
	if err := proto.Unmarshal(creator, &id); err != nil {
		return "", refuse(CodeNotWriter, "cannot read the caller identity: %v", err)
	}
	if id.Mspid == "" {
		return "", refuse(CodeNotWriter, "cannot read the caller identity: MSP id is empty")
	}
	return id.Mspid, nil
}

func (cc *Chaincode) checkWriter(stub shim.ChaincodeStubInterface) (string, error) {
	m, err := creatorMSP(stub)
	if err != nil {
		return "", err
	}
	if !cc.writers[m] {
		return "", refuse(CodeNotWriter, "writer MSP %s is not allowed to write (allowed: %s)", quote(m), cc.writersList)
	}
	return m, nil
}

// BatchEvent is the payload of the BatchAnchored event.
type BatchEvent struct {
	BatchID string `json:"batch_id"`
	Root    string `json:"root"`
	Size    int    `json:"size"`
}

// RecordView is what GetRecord returns.
type RecordView struct {
	Commitment string `json:"commitment"`
	BatchID    string `json:"batch_id"`
	LeafIndex  uint64 `json:"leaf_index"`
}

func (cc *Chaincode) putBatch(stub shim.ChaincodeStubInterface, arg []byte) ([]byte, error) {
	mspID, err := cc.checkWriter(stub)
	if err != nil {
		return nil, err
	}
	in, err := decodeBatch(arg)
	if err != nil {
		return nil, err
	}
	n := len(in.Commitments)

	// All keys in one buffer, converted to a string once: keys[0] is the batch key,
	// keys[1+i] the key of records[i].
	keyBytes := len(BatchObjectType) + len(in.BatchID) + 3 + n*RecordKeyLen
	kb := make([]byte, 0, keyBytes)
	ends := make([]int, 0, n+1)
	kb = appendCompositeKey(kb, BatchObjectType, in.BatchID)
	ends = append(ends, len(kb))
	for i := range in.Raw {
		kb = appendRecordKey(kb, &in.Raw[i])
		ends = append(ends, len(kb))
	}
	all := string(kb)
	keys := make([]string, n+1)
	start := 0
	for i, e := range ends {
		keys[i] = all[start:e]
		start = e
	}

	// No overwrite: the batch key and every record key must be absent. Reading them puts
	// them in the read set, so a concurrent transaction creating any of them makes one
	// of the two fail MVCC validation.
	vals, err := stub.GetMultipleStates(keys...)
	if err != nil {
		return nil, refuse(CodeInternal, "reading existing state: %v", err)
	}
	if len(vals) != len(keys) {
		return nil, refuse(CodeInternal, "reading existing state: got %d values for %d keys", len(vals), len(keys))
	}
	if vals[0] != nil {
		return nil, refuse(CodeBatchExists, "batch %s already exists", quote(in.BatchID))
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
		return nil, refuse(CodeRecordExists, "record %s already anchored in batch %s (records[%d]; %d of %d records in this batch already anchored)",
			in.Commitments[firstDup], quote(other), firstDup, dups, n)
	}

	ts, err := stub.GetTxTimestamp()
	if err != nil {
		return nil, refuse(CodeInternal, "reading transaction timestamp: %v", err)
	}
	if ts == nil {
		return nil, refuse(CodeInternal, "reading transaction timestamp: missing")
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
	per := binary.MaxVarintLen32 + len(in.BatchID)
	vb := make([]byte, 0, n*per)

	stub.StartWriteBatch()
	if err := stub.PutState(keys[0], batchVal); err != nil {
		return nil, refuse(CodeInternal, "writing batch: %v", err)
	}
	for i := range in.Commitments {
		s := len(vb)
		vb = AppendRecordValue(vb, uint64(i), in.BatchID)
		// Full slice expression: later appends (or a reallocation) never touch a value
		// already handed to PutState.
		if err := stub.PutState(keys[i+1], vb[s:len(vb):len(vb)]); err != nil {
			return nil, refuse(CodeInternal, "writing records[%d]: %v", i, err)
		}
	}
	if err := stub.FinishWriteBatch(); err != nil {
		return nil, refuse(CodeInternal, "writing batch: %v", err)
	}
	if err := stub.SetEvent(EventBatchAnchored, event); err != nil {
		return nil, refuse(CodeInternal, "setting event: %v", err)
	}
	return batchVal, nil
}

func getRecord(stub shim.ChaincodeStubInterface, commitmentHex []byte) ([]byte, error) {
	if msg := checkHex(commitmentHex); msg != "" {
		return nil, refuse(CodeBadArgument, "commitment must be %d lowercase hex characters, %s", HexLen, msg)
	}
	c := string(commitmentHex)
	var raw [CommitmentLen]byte
	decodeHex(&raw, c)
	v, err := stub.GetState(RecordKey(raw))
	if err != nil {
		return nil, refuse(CodeInternal, "reading record: %v", err)
	}
	if v == nil {
		return nil, refuse(CodeNotFound, "record %s not found", c)
	}
	rv, err := DecodeRecordValue(v)
	if err != nil {
		return nil, refuse(CodeCorruptValue, "record %s: stored value is corrupt: %v", c, err)
	}
	return json.Marshal(RecordView{Commitment: c, BatchID: rv.BatchID, LeafIndex: rv.LeafIndex})
}

func getBatch(stub shim.ChaincodeStubInterface, id []byte) ([]byte, error) {
	if !validID(id) {
		return nil, refuse(CodeBadArgument, "%v", idError("batch id", id))
	}
	v, err := stub.GetState(compositeKey(BatchObjectType, id))
	if err != nil {
		return nil, refuse(CodeInternal, "reading batch: %v", err)
	}
	if v == nil {
		return nil, refuse(CodeNotFound, "batch %s not found", quote(id))
	}
	return v, nil
}

func (cc *Chaincode) touch(stub shim.ChaincodeStubInterface, key []byte) ([]byte, error) {
	if _, err := cc.checkWriter(stub); err != nil {
		return nil, err
	}
	if !validID(key) {
		return nil, refuse(CodeBadArgument, "%v", idError("key", key))
	}
	// Read before writing: Fabric's MVCC validation only looks at read sets, so a blind
	// write would never conflict. With the read, two transactions that touch the same
	// key concurrently conflict (the later one in block order is invalidated).
	k := compositeKey(TouchObjectType, key)
	if _, err := stub.GetState(k); err != nil {
		return nil, refuse(CodeInternal, "reading touch key: %v", err)
	}
	txID := []byte(stub.GetTxID())
	if err := stub.PutState(k, txID); err != nil {
		return nil, refuse(CodeInternal, "writing touch key: %v", err)
	}
	return txID, nil
}
