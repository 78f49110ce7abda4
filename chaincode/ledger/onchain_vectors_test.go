package ledger

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// vectorsDir holds the on-chain layout vectors shared with the Python side
// (tests/unit/test_onchain.py walks the same files).
const vectorsDir = "../../tests/data/onchain"

type vector struct {
	Description string         `json:"description"`
	Kind        string         `json:"kind"`
	Input       *string        `json:"input"`
	InputHex    *string        `json:"input_hex"`
	Valid       bool           `json:"valid"`
	Decoded     map[string]any `json:"decoded"`
	Canonical   bool           `json:"canonical"`
	Refusal     string         `json:"refusal"`
}

// decodeVector decodes input with this package's decoders and renders the result like the
// vectors' "decoded" field (numbers as float64, as encoding/json reads them).
func decodeVector(kind string, data []byte) (map[string]any, error) {
	switch kind {
	case "record_key":
		c, err := ParseRecordKey(string(data))
		return map[string]any{"commitment": hex.EncodeToString(c[:])}, err
	case "record_value":
		rv, err := DecodeRecordValue(data)
		return map[string]any{"leaf_index": float64(rv.LeafIndex), "batch_id": rv.BatchID}, err
	case "batch_value":
		bv, err := DecodeBatchValue(data)
		return map[string]any{"batch_id": bv.BatchID, "root": bv.Root, "size": float64(bv.Size),
			"tx_id": bv.TxID, "msp": bv.MSP, "ts": bv.TS}, err
	case "put_batch":
		batchID, root, commitments, err := DecodePutBatch(data)
		records := make([]any, len(commitments))
		for i, c := range commitments {
			records[i] = c
		}
		return map[string]any{"batch_id": batchID, "root": root, "records": records}, err
	case "checkpoint_value":
		v, err := DecodeCheckpointValue(data)
		return map[string]any{"size": float64(v.Size), "root": v.Root, "prev_size": float64(v.PrevSize),
			"note": v.Note, "tx_id": v.TxID, "msp": v.MSP, "ts": v.TS}, err
	case "checkpoint_head":
		h, err := DecodeCheckpointHead(data)
		return map[string]any{"size": float64(h.Size), "root": h.Root}, err
	case "anchor_checkpoint":
		a, err := DecodeAnchorCheckpoint(data)
		proof := make([]any, len(a.Proof))
		for i, h := range a.Proof {
			proof[i] = hex.EncodeToString(h[:])
		}
		return map[string]any{"note": a.Note, "prev_size": float64(a.PrevSize), "proof": proof, "log_key": a.LogKey}, err
	}
	panic("unknown vector kind " + kind)
}

// encodeVector produces what the chaincode writes for decoded values.
func encodeVector(kind string, d map[string]any) []byte {
	switch kind {
	case "record_key":
		raw, err := hex.DecodeString(d["commitment"].(string))
		if err != nil || len(raw) != CommitmentLen {
			panic("bad commitment in vector")
		}
		return []byte(RecordKey([CommitmentLen]byte(raw)))
	case "record_value":
		return AppendRecordValue(nil, uint64(d["leaf_index"].(float64)), d["batch_id"].(string))
	case "batch_value":
		b, err := json.Marshal(BatchValue{BatchID: d["batch_id"].(string), Root: d["root"].(string),
			Size: int(d["size"].(float64)), TxID: d["tx_id"].(string), MSP: d["msp"].(string), TS: d["ts"].(string)})
		if err != nil {
			panic(err)
		}
		return b
	case "put_batch":
		var b strings.Builder
		b.WriteString(`{"batch_id":"` + d["batch_id"].(string) + `","root":"` + d["root"].(string) + `","records":[`)
		for i, c := range d["records"].([]any) {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"` + c.(string) + `"`)
		}
		b.WriteString("]}")
		return []byte(b.String())
	case "checkpoint_value":
		b, err := json.Marshal(CheckpointValue{Size: uint64(d["size"].(float64)), Root: d["root"].(string),
			PrevSize: uint64(d["prev_size"].(float64)), Note: d["note"].(string), TxID: d["tx_id"].(string),
			MSP: d["msp"].(string), TS: d["ts"].(string)})
		if err != nil {
			panic(err)
		}
		return b
	case "checkpoint_head":
		b, err := json.Marshal(CheckpointHead{Size: uint64(d["size"].(float64)), Root: d["root"].(string)})
		if err != nil {
			panic(err)
		}
		return b
	case "anchor_checkpoint":
		// What the Python service sends (onchain_tlog.encode_anchor_checkpoint), field order fixed.
		b, err := json.Marshal(struct {
			Note     string `json:"note"`
			PrevSize uint64 `json:"prev_size"`
			Proof    []any  `json:"proof"`
			LogKey   string `json:"log_key"`
		}{d["note"].(string), uint64(d["prev_size"].(float64)), d["proof"].([]any), d["log_key"].(string)})
		if err != nil {
			panic(err)
		}
		return b
	}
	panic("unknown vector kind " + kind)
}

func TestOnChainVectors(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(vectorsDir, "*.json"))
	if err != nil || len(paths) < 60 {
		t.Fatalf("vectors: %d files in %s (%v)", len(paths), vectorsDir, err)
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".json"), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var v vector
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatal(err)
			}
			var data []byte
			switch {
			case v.InputHex != nil:
				if data, err = hex.DecodeString(*v.InputHex); err != nil {
					t.Fatal(err)
				}
			case v.Input != nil:
				data = []byte(*v.Input)
			default:
				t.Fatal("vector has neither input nor input_hex")
			}
			got, err := decodeVector(v.Kind, data)
			if !v.Valid {
				if err == nil {
					t.Fatalf("accepted (%v), want refusal %s", got, v.Refusal)
				}
				if code := RefusalCode(err); code != v.Refusal {
					t.Fatalf("refusal %s (%v), want %s", code, err, v.Refusal)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !reflect.DeepEqual(got, v.Decoded) {
				t.Fatalf("decoded\n got %v\nwant %v", got, v.Decoded)
			}
			if v.Canonical {
				if enc := encodeVector(v.Kind, v.Decoded); string(enc) != string(data) {
					t.Fatalf("encoding\n got %q\nwant %q", enc, data)
				}
			}
		})
	}
}
