package ledger

// The on-chain layout of the global log's checkpoints (docs/transparency.md). Its Python
// twin is verify/src/credit_ledger_verify/onchain.py; tests/data/onchain/*.json pins both.
//
//	\x00tlog\x00key\x00                 the log's note verifier key, "name+hash+base64(0x01‖key)"
//	\x00tlog\x00head\x00                {"size","root"} of the latest anchored checkpoint
//	\x00tlog\x00<size, 20 digits>\x00   {"size","root","prev_size","note","tx_id","msp","ts"}
//
// AnchorCheckpoint's argument is {"note","prev_size","proof","log_key"}: the signed note
// (C2SP tlog-checkpoint), the size of the checkpoint it extends (the head's), the RFC 6962
// consistency proof from that one (lowercase hex hashes), and the log key. Sizes and roots
// name no enterprise; the note's origin names the channel and chaincode only.

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// TlogObjectType is the composite-key object type of the global log's keys.
const TlogObjectType = "tlog"

// Refusal codes of AnchorCheckpoint.
const (
	CodeCheckpointSignature    = "checkpoint_signature"
	CodeCheckpointGap          = "checkpoint_gap"
	CodeCheckpointSmaller      = "checkpoint_smaller"
	CodeCheckpointFork         = "checkpoint_fork"
	CodeCheckpointInconsistent = "checkpoint_inconsistent"
	CodeLogKeyMismatch         = "log_key_mismatch"
)

const (
	// MaxNoteLen bounds a checkpoint note (origin, size, root, a few signatures).
	MaxNoteLen = 4096
	// MaxProofHashes bounds a consistency proof: at most 2·64 hashes for 64-bit sizes.
	MaxProofHashes = 128
	// MaxLogSize is the largest tree size accepted (JSON numbers stay exact below 2^53).
	MaxLogSize = 1<<53 - 1
)

// LogKeyKey, CheckpointHeadKey: fixed keys; CheckpointKey: one per anchored size.
var (
	LogKeyKey         = compositeKey(TlogObjectType, "key")
	CheckpointHeadKey = compositeKey(TlogObjectType, "head")
)

// CheckpointKey is the state key of the checkpoint of this tree size (zero-padded so keys
// sort by size).
func CheckpointKey(size uint64) string {
	s := strconv.FormatUint(size, 10)
	return compositeKey(TlogObjectType, strings.Repeat("0", 20-len(s))+s)
}

// CheckpointHead is the value at CheckpointHeadKey.
type CheckpointHead struct {
	Size uint64 `json:"size"`
	Root string `json:"root"`
}

// CheckpointValue is the value at CheckpointKey(size).
type CheckpointValue struct {
	Size     uint64 `json:"size"`
	Root     string `json:"root"`
	PrevSize uint64 `json:"prev_size"`
	Note     string `json:"note"`
	TxID     string `json:"tx_id"`
	MSP      string `json:"msp"`
	TS       string `json:"ts"`
}

var (
	headFields       = []string{"size", "root"}
	checkpointFields = []string{"size", "root", "prev_size", "note", "tx_id", "msp", "ts"}
	anchorFields     = []string{"note", "prev_size", "proof", "log_key"}
)

// AnchorCheckpointArgument is AnchorCheckpoint's decoded argument.
type AnchorCheckpointArgument struct {
	Note     string
	PrevSize uint64
	Proof    [][CommitmentLen]byte
	LogKey   string
}

func decodeSize(raw json.RawMessage, name string, min uint64) (uint64, error) {
	s := string(raw)
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || (len(s) > 1 && s[0] == '0') || n < min || n > MaxLogSize {
		return 0, refuse(CodeBadArgument, "%s must be an integer %d..%d, got %.40s", name, min, uint64(MaxLogSize), s)
	}
	return n, nil
}

func decodeString(raw json.RawMessage, name string, max int) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", refuse(CodeBadArgument, "%s must be a string, found %s", name, jsonKind(raw))
	}
	if len(s) == 0 || len(s) > max || !utf8.ValidString(s) {
		return "", refuse(CodeBadArgument, "%s must be 1..%d bytes of UTF-8, got %d bytes", name, max, len(s))
	}
	return s, nil
}

// DecodeAnchorCheckpoint decodes AnchorCheckpoint's argument strictly, in field order:
// note, prev_size, proof, log_key. The note itself is checked by VerifyCheckpointNote.
func DecodeAnchorCheckpoint(data []byte) (AnchorCheckpointArgument, error) {
	var a AnchorCheckpointArgument
	fields, err := strictObject(data, anchorFields)
	if err != nil {
		return a, refuse(CodeBadArgument, "checkpoint argument: %v", err)
	}
	if a.Note, err = decodeString(fields["note"], "note", MaxNoteLen); err != nil {
		return a, err
	}
	if a.PrevSize, err = decodeSize(fields["prev_size"], "prev_size", 0); err != nil {
		return a, err
	}
	var hashes []json.RawMessage
	if err := json.Unmarshal(fields["proof"], &hashes); err != nil || fields["proof"][0] != '[' {
		return a, refuse(CodeBadArgument, "proof must be an array of hashes, found %s", jsonKind(fields["proof"]))
	}
	if len(hashes) > MaxProofHashes {
		return a, refuse(CodeBadArgument, "proof has %d hashes, at most %d allowed", len(hashes), MaxProofHashes)
	}
	a.Proof = make([][CommitmentLen]byte, len(hashes))
	for i, raw := range hashes {
		var h string
		if err := json.Unmarshal(raw, &h); err != nil {
			return a, refuse(CodeBadArgument, "proof[%d] must be a string, found %s", i, jsonKind(raw))
		}
		if msg := checkHex(h); msg != "" {
			return a, refuse(CodeBadArgument, "proof[%d] must be %d lowercase hex characters, %s", i, HexLen, msg)
		}
		decodeHex(&a.Proof[i], h)
	}
	if a.LogKey, err = decodeString(fields["log_key"], "log_key", 512); err != nil {
		return a, err
	}
	return a, nil
}

// DecodeCheckpointHead decodes the head value strictly.
func DecodeCheckpointHead(v []byte) (CheckpointHead, error) {
	var h CheckpointHead
	fields, err := strictObject(v, headFields)
	if err != nil {
		return h, refuse(CodeCorruptValue, "checkpoint head: %v", err)
	}
	if h.Size, err = decodeSize(fields["size"], "size", 1); err != nil {
		return h, refuse(CodeCorruptValue, "checkpoint head: %v", err)
	}
	if err := json.Unmarshal(fields["root"], &h.Root); err != nil || checkHex(h.Root) != "" {
		return h, refuse(CodeCorruptValue, "checkpoint head: root must be %d lowercase hex characters", HexLen)
	}
	return h, nil
}

// DecodeCheckpointValue decodes a checkpoint value strictly (the note is kept as text;
// verifiers check it against the log key themselves).
func DecodeCheckpointValue(v []byte) (CheckpointValue, error) {
	var c CheckpointValue
	fields, err := strictObject(v, checkpointFields)
	if err != nil {
		return c, refuse(CodeCorruptValue, "checkpoint value: %v", err)
	}
	corrupt := func(err error) (CheckpointValue, error) {
		return c, refuse(CodeCorruptValue, "checkpoint value: %v", err)
	}
	if c.Size, err = decodeSize(fields["size"], "size", 1); err != nil {
		return corrupt(err)
	}
	if err := json.Unmarshal(fields["root"], &c.Root); err != nil || checkHex(c.Root) != "" {
		return c, refuse(CodeCorruptValue, "checkpoint value: root must be %d lowercase hex characters", HexLen)
	}
	if c.PrevSize, err = decodeSize(fields["prev_size"], "prev_size", 0); err != nil {
		return corrupt(err)
	}
	if c.PrevSize >= c.Size {
		return c, refuse(CodeCorruptValue, "checkpoint value: prev_size %d is not below size %d", c.PrevSize, c.Size)
	}
	if c.Note, err = decodeString(fields["note"], "note", MaxNoteLen); err != nil {
		return corrupt(err)
	}
	for _, f := range []struct {
		name string
		dst  *string
		ok   func(string) bool
	}{{"tx_id", &c.TxID, func(s string) bool { return validID(s) }}, {"msp", &c.MSP, func(s string) bool { return validID(s) }}, {"ts", &c.TS, validTimestamp}} {
		if err := json.Unmarshal(fields[f.name], f.dst); err != nil || !f.ok(*f.dst) {
			return c, refuse(CodeCorruptValue, "checkpoint value: %s: bad value %.60s", f.name, fields[f.name])
		}
	}
	return c, nil
}
