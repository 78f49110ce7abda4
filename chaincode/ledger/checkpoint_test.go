package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
)

// -- an independent RFC 6962 tree for the tests (recursive definitions of RFC 9162 §2.1) --

func leafHash(i int) [CommitmentLen]byte {
	return sha256.Sum256(append([]byte{0}, []byte(fmt.Sprintf("leaf %d", i))...))
}

func largestPow2Below(n int) int {
	k := 1
	for k*2 < n {
		k *= 2
	}
	return k
}

func mth(leaves [][CommitmentLen]byte) [CommitmentLen]byte {
	switch len(leaves) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return leaves[0]
	}
	k := largestPow2Below(len(leaves))
	l, r := mth(leaves[:k]), mth(leaves[k:])
	return hashChildren(&l, &r)
}

func subproof(m int, leaves [][CommitmentLen]byte, complete bool) [][CommitmentLen]byte {
	n := len(leaves)
	if m == n {
		if complete {
			return nil
		}
		return [][CommitmentLen]byte{mth(leaves)}
	}
	k := largestPow2Below(n)
	if m <= k {
		return append(subproof(m, leaves[:k], complete), mth(leaves[k:]))
	}
	return append(subproof(m-k, leaves[k:], false), mth(leaves[:k]))
}

func leavesN(n int) [][CommitmentLen]byte {
	out := make([][CommitmentLen]byte, n)
	for i := range out {
		out[i] = leafHash(i)
	}
	return out
}

func TestVerifyConsistencyAgainstRecursiveDefinition(t *testing.T) {
	all := leavesN(40)
	for n := 1; n <= len(all); n++ {
		for m := 1; m <= n; m++ {
			proof := subproof(m, all[:n], true)
			r1, r2 := mth(all[:m]), mth(all[:n])
			if !VerifyConsistency(uint64(m), uint64(n), r1, r2, proof) {
				t.Fatalf("%d -> %d: a correct proof was refused", m, n)
			}
			if len(proof) > 0 {
				bad := append([][CommitmentLen]byte(nil), proof...)
				bad[len(bad)-1][0] ^= 1
				if VerifyConsistency(uint64(m), uint64(n), r1, r2, bad) {
					t.Fatalf("%d -> %d: a flipped proof was accepted", m, n)
				}
				if VerifyConsistency(uint64(m), uint64(n), r1, r2, proof[:len(proof)-1]) {
					t.Fatalf("%d -> %d: a truncated proof was accepted", m, n)
				}
			}
			if VerifyConsistency(uint64(m), uint64(n), r2, r1, proof) && r1 != r2 {
				t.Fatalf("%d -> %d: accepted with the roots swapped", m, n)
			}
		}
	}
}

// The repository's RFC 6962 consistency probes (transparency-dev/merkle's published
// values and their mutations), shared with the Python verifier.
func TestVerifyConsistencyRFC6962Probes(t *testing.T) {
	data, err := os.ReadFile("../../tests/data/rfc6962/consistency.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Probes []map[string]any `json:"probes"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Probes) < 20 {
		t.Fatalf("only %d probes", len(raw.Probes))
	}
	toHash := func(s string) ([CommitmentLen]byte, bool) {
		var h [CommitmentLen]byte
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != CommitmentLen {
			return h, false
		}
		copy(h[:], b)
		return h, true
	}
	for _, p := range raw.Probes {
		desc := p["desc"].(string)
		size1, size2 := p["size1"].(float64), p["size2"].(float64)
		want := p["want_error"].(bool)
		r1, ok1 := toHash(p["root1"].(string))
		r2, ok2 := toHash(p["root2"].(string))
		var proof [][CommitmentLen]byte
		okProof := true
		for _, h := range p["proof"].([]any) {
			b, ok := toHash(h.(string))
			okProof = okProof && ok
			proof = append(proof, b)
		}
		got := ok1 && ok2 && okProof && size1 >= 0 && size2 >= 0 &&
			VerifyConsistency(uint64(size1), uint64(size2), r1, r2, proof)
		if size1 == 0 && !want {
			continue // 0 -> n holds for any proof-free pair; the chaincode never anchors size 0
		}
		if got == want {
			t.Errorf("%s: verified=%v, want_error=%v", desc, got, want)
		}
	}
}

// -- AnchorCheckpoint against the in-memory stub --

type testLog struct {
	t      *testing.T
	name   string
	priv   ed25519.PrivateKey
	vkey   string
	leaves [][CommitmentLen]byte
}

func newTestLog(t *testing.T, seed byte) *testLog {
	priv := ed25519.NewKeyFromSeed(append(make([]byte, 31), seed))
	pub := priv.Public().(ed25519.PublicKey)
	name := "credit-ledger.example/ledger/ledger"
	id := noteKeyID(name, pub)
	vkey := fmt.Sprintf("%s+%x+%s", name, id, base64.StdEncoding.EncodeToString(append([]byte{1}, pub...)))
	return &testLog{t: t, name: name, priv: priv, vkey: vkey, leaves: leavesN(64)}
}

func (l *testLog) note(size int, root [CommitmentLen]byte) string {
	text := fmt.Sprintf("%s\n%d\n%s\n", l.name, size, base64.StdEncoding.EncodeToString(root[:]))
	id := noteKeyID(l.name, l.priv.Public().(ed25519.PublicKey))
	sig := append(id[:], ed25519.Sign(l.priv, []byte(text))...)
	return text + "\n\u2014 " + l.name + " " + base64.StdEncoding.EncodeToString(sig) + "\n"
}

func (l *testLog) arg(size, prev int, proof [][CommitmentLen]byte) string {
	return l.argWith(l.note(size, mth(l.leaves[:size])), prev, proof)
}

func (l *testLog) argWith(note string, prev int, proof [][CommitmentLen]byte) string {
	hs := make([]string, len(proof))
	for i, h := range proof {
		hs[i] = hex.EncodeToString(h[:])
	}
	b, err := json.Marshal(map[string]any{"note": note, "prev_size": prev, "proof": hs, "log_key": l.vkey})
	if err != nil {
		l.t.Fatal(err)
	}
	return string(b)
}

func (l *testLog) proof(m, n int) [][CommitmentLen]byte { return subproof(m, l.leaves[:n], true) }

// mustRefuse checks the refusal starts with want (the rest names sizes and roots).
func mustRefuse(t testing.TB, r *peer.Response, want string) {
	t.Helper()
	if r.Status == shim.OK || !strings.HasPrefix(r.Message, want) {
		t.Fatalf("expected a refusal starting %q, got status %d: %s", want, r.Status, r.Message)
	}
}

func TestAnchorCheckpointExtendsOnlyConsistently(t *testing.T) {
	lg := newTestLog(t, 7)
	led := newLedger()
	cc := New(nil)

	// The first checkpoint registers the log key; it needs no proof.
	mustRefuse(t, led.tx(t, platform, "t0", "AnchorCheckpoint", lg.arg(5, 3, nil)).invoke(cc), "[checkpoint_gap] no checkpoint is anchored yet")
	s := led.tx(t, platform, "t1", "AnchorCheckpoint", lg.arg(5, 0, nil))
	first := mustOK(t, s.invoke(cc))
	var v CheckpointValue
	if err := json.Unmarshal(first, &v); err != nil || v.Size != 5 || v.PrevSize != 0 || v.TxID != "t1" || v.Note != lg.note(5, mth(lg.leaves[:5])) {
		t.Fatalf("first checkpoint value %s (%v)", first, err)
	}
	if got := string(led.state[LogKeyKey]); got != lg.vkey {
		t.Fatalf("log key stored %q", got)
	}
	r5 := mth(lg.leaves[:5])
	if got, want := string(led.state[CheckpointHeadKey]), `{"size":5,"root":"`+hex.EncodeToString(r5[:])+`"}`; got != want {
		t.Fatalf("head %s, want %s", got, want)
	}
	if s.eventName != EventCheckpointAnchored {
		t.Fatalf("event %q", s.eventName)
	}

	// Extending with a correct proof is accepted; the value names the extended size.
	mustOK(t, led.tx(t, platform, "t2", "AnchorCheckpoint", lg.arg(13, 5, lg.proof(5, 13))).invoke(cc))
	if _, err := DecodeCheckpointValue(led.state[CheckpointKey(13)]); err != nil {
		t.Fatal(err)
	}

	// Anchoring the head again (a retried transaction) returns the stored value, writes nothing.
	again := led.tx(t, platform, "t3", "AnchorCheckpoint", lg.arg(13, 5, lg.proof(5, 13)))
	if got := mustOK(t, again.invoke(cc)); string(got) != string(led.state[CheckpointKey(13)]) || len(again.writes) != 0 {
		t.Fatalf("retry answered %s and wrote %d keys", got, len(again.writes))
	}

	// Refusals, each by name, none writing anything.
	forked := append([][CommitmentLen]byte(nil), lg.leaves...)
	forked[9][0] ^= 1
	forkNote := lg.note(13, mth(forked[:13]))
	forkNote20 := lg.note(20, mth(forked[:20]))
	other := newTestLog(t, 8)
	for _, c := range []struct{ name, arg, want string }{
		{"smaller", lg.arg(12, 5, lg.proof(5, 12)), "[checkpoint_smaller] checkpoint size 12 is below the anchored size 13"},
		{"fork at the head's size", lg.argWith(forkNote, 5, lg.proof(5, 13)), "[checkpoint_fork] checkpoint of size 13 has root"},
		{"gap", lg.arg(20, 5, lg.proof(5, 20)), "[checkpoint_gap] prev_size 5 is not the anchored size 13"},
		{"proof from another size", lg.arg(20, 13, lg.proof(5, 20)), "[checkpoint_inconsistent]"},
		{"forked history", lg.argWith(forkNote20, 13, subproof(13, forked[:20], true)), "[checkpoint_inconsistent]"},
		{"no proof", lg.arg(20, 13, nil), "[checkpoint_inconsistent]"},
		{"another log key", other.arg(20, 13, other.proof(13, 20)), "[log_key_mismatch]"},
		{"signature by another key", lg.argWith(other.note(20, mth(lg.leaves[:20])), 13, lg.proof(13, 20)), "[checkpoint_signature] note: not signed by the log key"},
		{"text changed after signing", lg.argWith(strings.Replace(lg.note(20, mth(lg.leaves[:20])), "\n20\n", "\n21\n", 1), 13, lg.proof(13, 20)), "[checkpoint_signature] note: the log key's signature does not verify"},
		{"not JSON", "{", "[bad_argument] checkpoint argument: not JSON"},
		{"unknown field", `{"note":"x","prev_size":0,"proof":[],"log_key":"k","extra":1}`, `[bad_argument] checkpoint argument: unknown field "extra"`},
		{"proof not hex", strings.Replace(lg.arg(20, 13, lg.proof(13, 20)), `"proof":["`, `"proof":["Z`, 1), "[bad_argument] proof[0] must be 64 lowercase hex characters"},
		{"negative prev_size", strings.Replace(lg.arg(20, 13, lg.proof(13, 20)), `"prev_size":13`, `"prev_size":-1`, 1), "[bad_argument] prev_size must be an integer"},
	} {
		before := len(led.state)
		s := led.tx(t, platform, "tx-"+c.name, "AnchorCheckpoint", c.arg)
		mustRefuse(t, s.invoke(cc), c.want)
		if len(s.writes) != 0 || len(led.state) != before {
			t.Fatalf("%s: wrote %d keys", c.name, len(s.writes))
		}
	}
	mustRefuse(t, led.tx(t, "BankMSP", "tb", "AnchorCheckpoint", lg.arg(20, 13, lg.proof(13, 20))).invoke(cc), "[not_writer]")

	// The honest extension still goes through after all the refusals.
	mustOK(t, led.tx(t, platform, "t4", "AnchorCheckpoint", lg.arg(20, 13, lg.proof(13, 20))).invoke(cc))
	head := mustOK(t, led.tx(t, platform, "t5", "GetCheckpoint", "head").invoke(cc))
	if v, err := DecodeCheckpointValue(head); err != nil || v.Size != 20 || v.PrevSize != 13 {
		t.Fatalf("GetCheckpoint head: %s %v", head, err)
	}
	mustErr(t, led.tx(t, platform, "t6", "GetCheckpoint", "7").invoke(cc), "[not_found] no checkpoint of size 7 is anchored")
}

func TestCheckpointKeysSortBySize(t *testing.T) {
	if !(CheckpointKey(9) < CheckpointKey(10) && CheckpointKey(10) < CheckpointKey(1<<40)) {
		t.Fatal("checkpoint keys do not sort by size")
	}
	if CheckpointKey(13) != "\x00tlog\x0000000000000000000013\x00" {
		t.Fatalf("key %q", CheckpointKey(13))
	}
}

func TestParseNoteVerifierKeyWhoseBase64ContainsPlus(t *testing.T) {
	// Standard base64 uses '+': about one random key in three has one in its material.
	for seed := 0; seed < 256; seed++ {
		priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(seed)}, ed25519.SeedSize))
		pub := priv.Public().(ed25519.PublicKey)
		name := "credit-ledger.example/ledger/ledger"
		id := noteKeyID(name, pub)
		material := base64.StdEncoding.EncodeToString(append([]byte{ed25519KeyType}, pub...))
		if !strings.Contains(material, "+") {
			continue
		}
		text := fmt.Sprintf("%s+%x+%s", name, id, material)
		k, err := ParseNoteVerifierKey(text)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		if k.Name != name || !k.Public.Equal(pub) || k.KeyID != id {
			t.Fatalf("parsed %+v from %s", k, text)
		}
		return
	}
	t.Fatal("no seed gave a key with '+' in its base64")
}

// The argument may come as transient data (not kept in the committed transaction, which a
// compact evidence bundle carries): the same checks, the same writes and payload.
func TestAnchorCheckpointFromTransientWritesTheSameAsFromArgument(t *testing.T) {
	lg := newTestLog(t, 9)
	cc := New(nil)
	arg := lg.arg(5, 0, nil)

	byArg := newLedger()
	viaArg := byArg.tx(t, platform, "t1", "AnchorCheckpoint", arg)
	payloadArg := mustOK(t, viaArg.invoke(cc))

	byTransient := newLedger()
	viaTransient := byTransient.tx(t, platform, "t1", "AnchorCheckpoint")
	viaTransient.transient = map[string][]byte{TransientCheckpointField: []byte(arg)}
	payloadTransient := mustOK(t, viaTransient.invoke(cc))
	if !bytes.Equal(payloadArg, payloadTransient) {
		t.Fatalf("payloads differ:\n%s\n%s", payloadArg, payloadTransient)
	}
	if fmt.Sprint(viaArg.writeSet()) != fmt.Sprint(viaTransient.writeSet()) {
		t.Fatal("write sets differ between argument and transient delivery")
	}
	// The checks are the same: a gap is refused from transient data too.
	gap := byTransient.tx(t, platform, "t2", "AnchorCheckpoint")
	gap.transient = map[string][]byte{TransientCheckpointField: []byte(lg.arg(13, 3, lg.proof(3, 13)))}
	mustRefuse(t, gap.invoke(cc), "[checkpoint_gap]")
	none := byTransient.tx(t, platform, "t3", "AnchorCheckpoint")
	none.transient = map[string][]byte{TransientBatchField: []byte(arg)}
	mustRefuse(t, none.invoke(cc), `[bad_argument] AnchorCheckpoint: expected the checkpoint JSON as argument 1 or in transient field "checkpoint", got neither`)
}

// A log key whose base64 holds "+" (about every second key) parses: only the first two "+"
// separate the name and the key hash (a split on every "+" refused such keys).
func TestLogKeyWithPlusInItsBase64Parses(t *testing.T) {
	lg := newTestLog(t, 9)
	if strings.Count(lg.vkey, "+") < 3 {
		t.Fatalf("seed 9 was chosen for a '+' in the key's base64: %s", lg.vkey)
	}
	if _, err := ParseNoteVerifierKey(lg.vkey); err != nil {
		t.Fatal(err)
	}
}
