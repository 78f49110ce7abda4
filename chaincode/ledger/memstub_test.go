package ledger

import (
	"fmt"
	"sort"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// memLedger is committed world state shared by successive transactions.
type memLedger struct {
	state map[string][]byte
}

func newLedger() *memLedger { return &memLedger{state: map[string][]byte{}} }

// memStub is an in-memory stand-in for shim.ChaincodeStubInterface covering the
// methods the chaincode uses. Any other method panics (nil embedded interface).
//
// Semantics follow the real shim: reads see committed state only (not this
// transaction's writes); writes go to a per-transaction write set; between
// StartWriteBatch and FinishWriteBatch they are buffered and flushed at Finish.
type memStub struct {
	shim.ChaincodeStubInterface

	ledger    *memLedger
	args      [][]byte
	txID      string
	creator   []byte
	ts        *timestamppb.Timestamp
	transient map[string][]byte

	writes     map[string][]byte // this transaction's write set
	reads      []string          // keys read, in order
	pending    map[string][]byte // buffered by a write batch
	batching   bool
	flushes    int
	multiCalls int
	eventName  string
	eventBody  []byte
}

func creatorBytes(t testing.TB, mspID string) []byte {
	b, err := proto.Marshal(&msp.SerializedIdentity{Mspid: mspID, IdBytes: []byte("-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n")})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (l *memLedger) tx(t testing.TB, mspID, txID string, args ...string) *memStub {
	bargs := make([][]byte, len(args))
	for i, a := range args {
		bargs[i] = []byte(a)
	}
	return l.txBytes(t, mspID, txID, bargs)
}

func (l *memLedger) txBytes(t testing.TB, mspID, txID string, args [][]byte) *memStub {
	return &memStub{
		ledger:  l,
		args:    args,
		txID:    txID,
		creator: creatorBytes(t, mspID),
		ts:      &timestamppb.Timestamp{Seconds: 1767225600, Nanos: 123456000}, // 2026-01-01T00:00:00.123456Z
		writes:  map[string][]byte{},
	}
}

// invoke runs the chaincode and, like a valid committed transaction, applies the
// write set to the ledger when the response is OK.
func (s *memStub) invoke(cc *Chaincode) *peer.Response {
	resp := cc.Invoke(s)
	if resp.Status == shim.OK {
		if s.batching {
			panic("write batch left open")
		}
		for k, v := range s.writes {
			s.ledger.state[k] = v
		}
	}
	return resp
}

func (s *memStub) GetArgs() [][]byte { return s.args }
func (s *memStub) GetStringArgs() []string {
	out := make([]string, len(s.args))
	for i, a := range s.args {
		out[i] = string(a)
	}
	return out
}
func (s *memStub) GetFunctionAndParameters() (string, []string) {
	a := s.GetStringArgs()
	if len(a) == 0 {
		return "", []string{}
	}
	return a[0], a[1:]
}
func (s *memStub) GetTransient() (map[string][]byte, error)        { return s.transient, nil }
func (s *memStub) GetTxID() string                                 { return s.txID }
func (s *memStub) GetChannelID() string                            { return "ledger" }
func (s *memStub) GetCreator() ([]byte, error)                     { return s.creator, nil }
func (s *memStub) GetTxTimestamp() (*timestamppb.Timestamp, error) { return s.ts, nil }

func (s *memStub) CreateCompositeKey(objectType string, attributes []string) (string, error) {
	return shim.CreateCompositeKey(objectType, attributes)
}

func (s *memStub) GetState(key string) ([]byte, error) {
	s.reads = append(s.reads, key)
	v, ok := s.ledger.state[key]
	if !ok {
		return nil, nil
	}
	return append([]byte(nil), v...), nil
}

func (s *memStub) GetMultipleStates(keys ...string) ([][]byte, error) {
	s.multiCalls++
	if len(keys) == 0 {
		return nil, nil
	}
	out := make([][]byte, len(keys))
	for i, k := range keys {
		s.reads = append(s.reads, k)
		if v, ok := s.ledger.state[k]; ok {
			out[i] = v
		}
	}
	return out, nil
}

func (s *memStub) PutState(key string, value []byte) error {
	if key == "" {
		return fmt.Errorf("key must not be an empty string")
	}
	if s.batching {
		s.pending[key] = value
		return nil
	}
	s.writes[key] = value
	return nil
}

func (s *memStub) StartWriteBatch() {
	if !s.batching {
		s.batching = true
		s.pending = map[string][]byte{}
	}
}

func (s *memStub) FinishWriteBatch() error {
	for k, v := range s.pending {
		s.writes[k] = v
	}
	s.pending = nil
	s.batching = false
	s.flushes++
	return nil
}

func (s *memStub) SetEvent(name string, payload []byte) error {
	if name == "" {
		return fmt.Errorf("event name can not be empty string")
	}
	s.eventName, s.eventBody = name, payload
	return nil
}

// writeSet renders the transaction's writes in key order (as Fabric's rwset does),
// copying the values so later mutation of chaincode buffers would show up as a diff.
func (s *memStub) writeSet() []kv {
	out := make([]kv, 0, len(s.writes))
	for k, v := range s.writes {
		out = append(out, kv{k, string(v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].K < out[j].K })
	return out
}

type kv struct{ K, V string }
