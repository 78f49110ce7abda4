package ledger

// AnchorCheckpoint: the channel refuses any checkpoint of the global log that does not
// extend the last anchored one (docs/transparency.md "What the chaincode checks").

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
)

// EventCheckpointAnchored is the chaincode event set by AnchorCheckpoint.
const EventCheckpointAnchored = "CheckpointAnchored"

const ed25519KeyType = 0x01

// NoteVerifierKey is a parsed signed-note verifier key "name+hash+base64(0x01‖key)".
type NoteVerifierKey struct {
	Name   string
	KeyID  [4]byte
	Public ed25519.PublicKey
}

// ParseNoteVerifierKey parses an Ed25519 signed-note verifier key strictly.
func ParseNoteVerifierKey(text string) (NoteVerifierKey, error) {
	var k NoteVerifierKey
	// the key's base64 may itself hold "+": split off the name and the hash only (x/mod/sumdb/note)
	parts := strings.SplitN(text, "+", 3)
	if len(parts) != 3 || parts[0] == "" || strings.ContainsAny(parts[0], " \n\t") {
		return k, refuse(CodeBadArgument, "log_key must be name+hash+key, got %.80s", quote(text))
	}
	id, err := hex.DecodeString(parts[1])
	if err != nil || len(parts[1]) != 8 || strings.ToLower(parts[1]) != parts[1] {
		return k, refuse(CodeBadArgument, "log_key: key hash must be 8 lowercase hex characters")
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(parts[2])
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != ed25519KeyType {
		return k, refuse(CodeBadArgument, "log_key: key must be base64 of 0x01 and a 32-byte Ed25519 key")
	}
	k.Name, k.Public = parts[0], ed25519.PublicKey(raw[1:])
	copy(k.KeyID[:], id)
	if want := noteKeyID(k.Name, k.Public); want != k.KeyID {
		return k, refuse(CodeBadArgument, "log_key: key hash %s does not match the name and key (want %x)", parts[1], want)
	}
	return k, nil
}

func noteKeyID(name string, pub ed25519.PublicKey) [4]byte {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', ed25519KeyType})
	h.Write(pub)
	var id [4]byte
	copy(id[:], h.Sum(nil))
	return id
}

// NoteCheckpoint is the body of a checkpoint note the log key signed.
type NoteCheckpoint struct {
	Origin string
	Size   uint64
	Root   [CommitmentLen]byte
}

// VerifyCheckpointNote checks a C2SP checkpoint note: a signature by key over the note
// text (other signature lines, e.g. cosignatures, are ignored), then the text's shape —
// origin equal to the key's name, a decimal size, a base64 32-byte root, extension lines.
func VerifyCheckpointNote(note string, key NoteVerifierKey) (NoteCheckpoint, error) {
	var cp NoteCheckpoint
	sep := strings.LastIndex(note, "\n\n")
	if sep < 0 || !strings.HasSuffix(note, "\n") {
		return cp, refuse(CodeBadArgument, "note: no blank line between text and signatures, or no final newline")
	}
	text, sigs := note[:sep+1], note[sep+2:]
	signed := false
	for _, line := range strings.Split(strings.TrimSuffix(sigs, "\n"), "\n") {
		rest, ok := strings.CutPrefix(line, "\u2014 ")
		if !ok {
			return cp, refuse(CodeBadArgument, "note: signature line %.80s does not start with an em dash and a space", quote(line))
		}
		name, b64, ok := strings.Cut(rest, " ")
		if !ok || name != key.Name {
			continue
		}
		raw, err := base64.StdEncoding.Strict().DecodeString(b64)
		if err != nil || len(raw) != 4+ed25519.SignatureSize || !bytes.Equal(raw[:4], key.KeyID[:]) {
			continue // another key of the same name, or not an Ed25519 note signature
		}
		if !ed25519.Verify(key.Public, []byte(text), raw[4:]) {
			return cp, refuse(CodeCheckpointSignature, "note: the log key's signature does not verify")
		}
		signed = true
	}
	if !signed {
		return cp, refuse(CodeCheckpointSignature, "note: not signed by the log key %s", quote(key.Name))
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return cp, refuse(CodeBadArgument, "note: text has %d lines, a checkpoint needs origin, size and root", len(lines))
	}
	if lines[0] != key.Name {
		return cp, refuse(CodeBadArgument, "note: origin %s is not the log key's name %s", quote(lines[0]), quote(key.Name))
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || (len(lines[1]) > 1 && lines[1][0] == '0') || size > MaxLogSize {
		return cp, refuse(CodeBadArgument, "note: size %.40s is not a decimal integer", quote(lines[1]))
	}
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != CommitmentLen {
		return cp, refuse(CodeBadArgument, "note: root %.60s is not base64 of 32 bytes", quote(lines[2]))
	}
	cp.Origin, cp.Size = lines[0], size
	copy(cp.Root[:], root)
	return cp, nil
}

func hashChildren(left, right *[CommitmentLen]byte) [CommitmentLen]byte {
	var buf [1 + 2*CommitmentLen]byte
	buf[0] = 0x01
	copy(buf[1:], left[:])
	copy(buf[1+CommitmentLen:], right[:])
	return sha256.Sum256(buf[:])
}

// VerifyConsistency checks an RFC 6962 consistency proof (RFC 9162 §2.1.4.2) from the
// tree of size1 with root1 to the tree of size2 with root2. size1 must be at least 1.
func VerifyConsistency(size1, size2 uint64, root1, root2 [CommitmentLen]byte, proof [][CommitmentLen]byte) bool {
	switch {
	case size1 == 0 || size2 < size1:
		return false
	case size1 == size2:
		return len(proof) == 0 && root1 == root2
	case len(proof) == 0:
		return false
	}
	path := proof
	if size1&(size1-1) == 0 { // size1 is a power of two: its root is the first node
		path = append([][CommitmentLen]byte{root1}, proof...)
	}
	fn, sn := size1-1, size2-1
	for fn&1 == 1 {
		fn >>= 1
		sn >>= 1
	}
	fr, sr := path[0], path[0]
	for i := 1; i < len(path); i++ {
		c := path[i]
		if sn == 0 {
			return false
		}
		if fn&1 == 1 || fn == sn {
			fr = hashChildren(&c, &fr)
			sr = hashChildren(&c, &sr)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			sr = hashChildren(&sr, &c)
		}
		fn >>= 1
		sn >>= 1
	}
	return fr == root1 && sr == root2 && sn == 0
}

// anchorCheckpoint registers the log key on the first call, then accepts a checkpoint only
// if it is signed by that key and extends the head: prev_size equal to the head's size (no
// gap), a larger size, and a consistency proof from the head's root. Anchoring the head's
// own checkpoint again is answered with the stored value (idempotent retries); another
// root at the head's size is a fork.
func (cc *Chaincode) anchorCheckpoint(stub shim.ChaincodeStubInterface, data []byte) ([]byte, error) {
	mspID, err := cc.checkWriter(stub)
	if err != nil {
		return nil, err
	}
	arg, err := DecodeAnchorCheckpoint(data)
	if err != nil {
		return nil, err
	}
	key, err := ParseNoteVerifierKey(arg.LogKey)
	if err != nil {
		return nil, err
	}
	vals, err := stub.GetMultipleStates(LogKeyKey, CheckpointHeadKey)
	if err != nil || len(vals) != 2 {
		return nil, refuse(CodeInternal, "reading the log's state: %v", err)
	}
	storedKey, headVal := vals[0], vals[1]
	if storedKey != nil && string(storedKey) != arg.LogKey {
		return nil, refuse(CodeLogKeyMismatch, "log_key %s is not the log key registered on this channel", quote(key.Name))
	}
	cp, err := VerifyCheckpointNote(arg.Note, key)
	if err != nil {
		return nil, err
	}
	if cp.Size == 0 {
		return nil, refuse(CodeBadArgument, "note: size 0 (an empty log) is not anchored")
	}
	root := hex.EncodeToString(cp.Root[:])
	if headVal == nil {
		if arg.PrevSize != 0 || len(arg.Proof) != 0 {
			return nil, refuse(CodeCheckpointGap, "no checkpoint is anchored yet: prev_size must be 0 and proof empty, got prev_size %d and %d hashes", arg.PrevSize, len(arg.Proof))
		}
	} else {
		head, err := DecodeCheckpointHead(headVal)
		if err != nil {
			return nil, err
		}
		var headRoot [CommitmentLen]byte
		decodeHex(&headRoot, head.Root)
		switch {
		case cp.Size < head.Size:
			return nil, refuse(CodeCheckpointSmaller, "checkpoint size %d is below the anchored size %d", cp.Size, head.Size)
		case cp.Size == head.Size && cp.Root == headRoot:
			return stub.GetState(CheckpointKey(cp.Size))
		case cp.Size == head.Size:
			return nil, refuse(CodeCheckpointFork, "checkpoint of size %d has root %s, the anchored one has %s", cp.Size, root, head.Root)
		case arg.PrevSize != head.Size:
			return nil, refuse(CodeCheckpointGap, "prev_size %d is not the anchored size %d", arg.PrevSize, head.Size)
		case !VerifyConsistency(head.Size, cp.Size, headRoot, cp.Root, arg.Proof):
			return nil, refuse(CodeCheckpointInconsistent, "the consistency proof does not lead from the anchored checkpoint (size %d) to this one (size %d)", head.Size, cp.Size)
		}
	}
	ts, err := stub.GetTxTimestamp()
	if err != nil || ts == nil {
		return nil, refuse(CodeInternal, "reading transaction timestamp: %v", err)
	}
	value, err := json.Marshal(CheckpointValue{
		Size: cp.Size, Root: root, PrevSize: arg.PrevSize, Note: arg.Note,
		TxID: stub.GetTxID(), MSP: mspID, TS: ts.AsTime().UTC().Format(timeLayout),
	})
	if err != nil {
		return nil, err
	}
	head, err := json.Marshal(CheckpointHead{Size: cp.Size, Root: root})
	if err != nil {
		return nil, err
	}
	if storedKey == nil {
		if err := stub.PutState(LogKeyKey, []byte(arg.LogKey)); err != nil {
			return nil, refuse(CodeInternal, "writing the log key: %v", err)
		}
	}
	if err := stub.PutState(CheckpointKey(cp.Size), value); err != nil {
		return nil, refuse(CodeInternal, "writing the checkpoint: %v", err)
	}
	if err := stub.PutState(CheckpointHeadKey, head); err != nil {
		return nil, refuse(CodeInternal, "writing the head: %v", err)
	}
	if err := stub.SetEvent(EventCheckpointAnchored, head); err != nil {
		return nil, refuse(CodeInternal, "setting event: %v", err)
	}
	return value, nil
}

// getCheckpoint returns the checkpoint value of a size, or of the head for "head".
func getCheckpoint(stub shim.ChaincodeStubInterface, which []byte) ([]byte, error) {
	size := uint64(0)
	if string(which) == "head" {
		v, err := stub.GetState(CheckpointHeadKey)
		if err != nil {
			return nil, refuse(CodeInternal, "reading the head: %v", err)
		}
		if v == nil {
			return nil, refuse(CodeNotFound, "no checkpoint is anchored")
		}
		h, err := DecodeCheckpointHead(v)
		if err != nil {
			return nil, err
		}
		size = h.Size
	} else {
		n, err := decodeSize(json.RawMessage(which), "size", 1)
		if err != nil {
			return nil, err
		}
		size = n
	}
	v, err := stub.GetState(CheckpointKey(size))
	if err != nil {
		return nil, refuse(CodeInternal, "reading the checkpoint: %v", err)
	}
	if v == nil {
		return nil, refuse(CodeNotFound, "no checkpoint of size %d is anchored", size)
	}
	return v, nil
}
