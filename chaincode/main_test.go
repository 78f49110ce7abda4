package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"creditledger/chaincode/ledger"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ---------- test PKI ----------

type certKey struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
	keyPEM  []byte
}

func newCert(t testing.TB, cn string, parent *certKey, isCA bool, usage []x509.ExtKeyUsage) *certKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"test"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		BasicConstraintsValid: true,
		IsCA:                  isCA,
		ExtKeyUsage:           usage,
	}
	if isCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	signer, signerCert := key, tmpl
	if parent != nil {
		signer, signerCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	return &certKey{
		cert:    cert,
		key:     key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}),
	}
}

type pki struct {
	dir                       string
	serverCA, server          *certKey
	peerCA, peerClient        *certKey
	otherCA, otherClient      *certKey
	serverCAFile, otherCAFile string
	keyFile, certFile, caFile string
}

func newPKI(t testing.TB) *pki {
	p := &pki{dir: t.TempDir()}
	p.serverCA = newCert(t, "chaincode-tls-ca", nil, true, nil)
	p.server = newCert(t, "ledgercc", p.serverCA, false, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth})
	p.peerCA = newCert(t, "tlsca.platform", nil, true, nil)
	p.peerClient = newCert(t, "peer0.platform", p.peerCA, false, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
	p.otherCA = newCert(t, "tlsca.other", nil, true, nil)
	p.otherClient = newCert(t, "peer0.other", p.otherCA, false, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
	p.keyFile = p.write(t, "server.key", p.server.keyPEM)
	p.certFile = p.write(t, "server.crt", p.server.certPEM)
	p.caFile = p.write(t, "peer-tlsca.pem", p.peerCA.certPEM)
	p.otherCAFile = p.write(t, "other-tlsca.pem", p.otherCA.certPEM)
	return p
}

func (p *pki) write(t testing.TB, name string, b []byte) string {
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (p *pki) env(addr string) map[string]string {
	return map[string]string{
		envCCID:        "ledgercc_1.0:0123456789abcdef",
		envAddress:     addr,
		envTLSKey:      p.keyFile,
		envTLSCert:     p.certFile,
		envTLSClientCA: p.caFile,
	}
}

func getenv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// ---------- configuration ----------

func TestLoadConfig(t *testing.T) {
	p := newPKI(t)

	cfg, err := loadConfig(getenv(p.env("127.0.0.1:9999")))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TLS.Disabled || len(cfg.TLS.Key) == 0 || len(cfg.TLS.Cert) == 0 || len(cfg.TLS.ClientCACerts) == 0 {
		t.Fatalf("TLS not loaded: %+v", cfg.TLS)
	}
	if strings.Join(cfg.WriterMSPs, ",") != "PlatformMSP" {
		t.Fatalf("default writers: %v", cfg.WriterMSPs)
	}

	// Several client CA files, several writer MSPs.
	env := p.env("127.0.0.1:9999")
	env[envTLSClientCA] = p.caFile + " , " + p.otherCAFile
	env[envWriterMSPs] = " PlatformMSP, Platform2MSP ,,PlatformMSP"
	cfg, err = loadConfig(getenv(env))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := countCerts(cfg.TLS.ClientCACerts); n != 2 {
		t.Fatalf("client CA bundle has %d certs", n)
	}
	if strings.Join(cfg.WriterMSPs, ",") != "PlatformMSP,Platform2MSP" {
		t.Fatalf("writers: %v", cfg.WriterMSPs)
	}

	// TLS disabled: no files needed.
	cfg, err = loadConfig(getenv(map[string]string{envCCID: "cc", envAddress: ":1", envTLSDisabled: "true"}))
	if err != nil || !cfg.TLS.Disabled {
		t.Fatalf("TLS disabled: %v %+v", err, cfg)
	}

	bad := p.write(t, "bad.pem", []byte("not a pem"))
	cases := []struct {
		name string
		mod  func(map[string]string)
		want []string
	}{
		{"nothing set", func(m map[string]string) { clear(m) }, []string{
			"CHAINCODE_ID is not set", "CHAINCODE_SERVER_ADDRESS is not set", "CHAINCODE_TLS_KEY_FILE is not set",
			"CHAINCODE_TLS_CERT_FILE is not set", "CHAINCODE_TLS_CLIENT_CACERT_FILE is not set",
			"mutual TLS is required; CHAINCODE_TLS_DISABLED=true exists for local unit debugging only"}},
		{"missing key file", func(m map[string]string) { m[envTLSKey] = "/nonexistent/key.pem" }, []string{
			"CHAINCODE_TLS_KEY_FILE: cannot read server TLS private key, PEM: open /nonexistent/key.pem: no such file or directory"}},
		{"missing client CA", func(m map[string]string) { delete(m, envTLSClientCA) }, []string{
			"CHAINCODE_TLS_CLIENT_CACERT_FILE is not set", "mutual TLS is required"}},
		{"one client CA file missing", func(m map[string]string) { m[envTLSClientCA] = p.caFile + ",/nonexistent/ca.pem" }, []string{
			"CHAINCODE_TLS_CLIENT_CACERT_FILE: cannot read client CA file: open /nonexistent/ca.pem"}},
		{"client CA not PEM", func(m map[string]string) { m[envTLSClientCA] = bad }, []string{
			"CHAINCODE_TLS_CLIENT_CACERT_FILE: " + bad + ": no PEM certificate found"}},
		{"key does not match cert", func(m map[string]string) { m[envTLSKey] = p.write(t, "other.key", p.otherClient.keyPEM) }, []string{
			"CHAINCODE_TLS_CERT_FILE / CHAINCODE_TLS_KEY_FILE: not a usable key pair"}},
		{"bad TLS_DISABLED", func(m map[string]string) { m[envTLSDisabled] = "maybe" }, []string{
			`CHAINCODE_TLS_DISABLED="maybe": must be true or false`}},
		{"empty MSP list", func(m map[string]string) { m[envWriterMSPs] = " , ," }, []string{
			`LEDGER_WRITER_MSPS=" , ,": no MSP id in the list`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := p.env("127.0.0.1:9999")
			tc.mod(env)
			_, err := loadConfig(getenv(env))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

// ---------- a peer emulator speaking the chaincode protocol to the real shim ----------

// fakePeer drives the chaincode server the way a Fabric peer does (REGISTER →
// REGISTERED → READY, then TRANSACTION and the shim's state requests), keeping world
// state in a map. It exercises the real shim, gRPC and mutual TLS; it is not a
// substitute for the integration tests against real peers.
type fakePeer struct {
	t      testing.TB
	conn   *grpc.ClientConn
	stream grpc.BidiStreamingClient[peer.ChaincodeMessage, peer.ChaincodeMessage]
	state  map[string][]byte
	msgs   map[peer.ChaincodeMessage_Type]int
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServer runs the chaincode server from env (like main) and waits for it to listen.
func startServer(t testing.TB, env map[string]string) {
	cfg, err := loadConfig(getenv(env))
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(cfg)
	stopped := make(chan error, 1)
	go func() {
		err := srv.Start()
		if err != nil {
			t.Logf("server stopped: %v", err)
		}
		stopped <- err
	}()
	// Generous on a loaded machine; a server that fails to bind says so at once.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-stopped:
			t.Fatalf("server on %s did not start: %v", cfg.Address, err)
		default:
		}
		c, err := net.Dial("tcp", cfg.Address)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("server on %s did not start within 10s", cfg.Address)
}

func (p *pki) clientTLS(client *certKey) *tls.Config {
	roots := x509.NewCertPool()
	roots.AddCert(p.serverCA.cert)
	cfg := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	if client != nil {
		// Always present the certificate, even if the server does not list its CA.
		c := &tls.Certificate{Certificate: [][]byte{client.cert.Raw}, PrivateKey: client.key}
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return c, nil }
	}
	return cfg
}

// dial connects and performs the registration handshake; params nil = an old peer
// without write batches / multiple-key reads.
func dial(t testing.TB, addr string, tlsCfg *tls.Config, params *peer.ChaincodeAdditionalParams) (*fakePeer, error) {
	creds := grpc.WithTransportCredentials(credentials.NewTLS(tlsCfg))
	conn, err := grpc.NewClient(addr, creds, grpc.WithDefaultCallOptions(
		grpc.MaxCallRecvMsgSize(100<<20), grpc.MaxCallSendMsgSize(100<<20)))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	stream, err := peer.NewChaincodeClient(conn).Connect(ctx)
	if err != nil {
		conn.Close()
		return nil, err
	}
	p := &fakePeer{t: t, conn: conn, stream: stream, state: map[string][]byte{}, msgs: map[peer.ChaincodeMessage_Type]int{}}
	t.Cleanup(func() { conn.Close() })
	reg, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	var id peer.ChaincodeID
	if reg.Type != peer.ChaincodeMessage_REGISTER || proto.Unmarshal(reg.Payload, &id) != nil {
		return nil, fmt.Errorf("expected REGISTER, got %v", reg.Type)
	}
	if id.Name != "ledgercc_1.0:0123456789abcdef" {
		return nil, fmt.Errorf("registered as %q", id.Name)
	}
	if err := stream.Send(&peer.ChaincodeMessage{Type: peer.ChaincodeMessage_REGISTERED}); err != nil {
		return nil, err
	}
	ready := &peer.ChaincodeMessage{Type: peer.ChaincodeMessage_READY}
	if params != nil {
		ready.Payload, _ = proto.Marshal(params)
	}
	return p, stream.Send(ready)
}

var fabricDefaults = &peer.ChaincodeAdditionalParams{
	UseWriteBatch: true, MaxSizeWriteBatch: 1000, UseGetMultipleKeys: true, MaxSizeGetMultipleKeys: 1000,
}

type txResult struct {
	resp   *peer.Response
	event  *peer.ChaincodeEvent
	writes map[string][]byte
}

func (p *fakePeer) invoke(txID, mspID string, args ...[]byte) (*txResult, error) {
	creator, _ := proto.Marshal(&msp.SerializedIdentity{Mspid: mspID, IdBytes: []byte("cert")})
	chdr, _ := proto.Marshal(&common.ChannelHeader{
		Type: int32(common.HeaderType_ENDORSER_TRANSACTION), ChannelId: "ledger", TxId: txID,
		Timestamp: &timestamppb.Timestamp{Seconds: 1767225600, Nanos: 5},
	})
	shdr, _ := proto.Marshal(&common.SignatureHeader{Creator: creator, Nonce: []byte("nonce")})
	hdr, _ := proto.Marshal(&common.Header{ChannelHeader: chdr, SignatureHeader: shdr})
	input, _ := proto.Marshal(&peer.ChaincodeInput{Args: args})
	cpp, _ := proto.Marshal(&peer.ChaincodeProposalPayload{Input: input})
	prop, _ := proto.Marshal(&peer.Proposal{Header: hdr, Payload: cpp})
	err := p.stream.Send(&peer.ChaincodeMessage{
		Type: peer.ChaincodeMessage_TRANSACTION, Txid: txID, ChannelId: "ledger", Payload: input,
		Proposal: &peer.SignedProposal{ProposalBytes: prop, Signature: []byte("sig")},
	})
	if err != nil {
		return nil, err
	}
	res := &txResult{writes: map[string][]byte{}}
	for {
		m, err := p.stream.Recv()
		if err != nil {
			return nil, err
		}
		p.msgs[m.Type]++
		var reply []byte
		switch m.Type {
		case peer.ChaincodeMessage_GET_STATE:
			var g peer.GetState
			proto.Unmarshal(m.Payload, &g)
			reply = p.state[g.Key]
		case peer.ChaincodeMessage_GET_STATE_MULTIPLE:
			var g peer.GetStateMultiple
			proto.Unmarshal(m.Payload, &g)
			r := &peer.GetStateMultipleResult{Values: make([][]byte, len(g.Keys))}
			for i, k := range g.Keys {
				r.Values[i] = p.state[k]
			}
			reply, _ = proto.Marshal(r)
		case peer.ChaincodeMessage_PUT_STATE:
			var ps peer.PutState
			proto.Unmarshal(m.Payload, &ps)
			res.writes[ps.Key] = ps.Value
		case peer.ChaincodeMessage_WRITE_BATCH_STATE:
			var wb peer.WriteBatchState
			proto.Unmarshal(m.Payload, &wb)
			for _, w := range wb.Rec {
				if w.Type != peer.WriteRecord_PUT_STATE || w.Collection != "" {
					return nil, fmt.Errorf("unexpected write record %v", w)
				}
				res.writes[w.Key] = w.Value
			}
		case peer.ChaincodeMessage_COMPLETED:
			res.resp = &peer.Response{}
			if err := proto.Unmarshal(m.Payload, res.resp); err != nil {
				return nil, err
			}
			res.event = m.ChaincodeEvent
			if res.resp.Status == shim.OK {
				for k, v := range res.writes {
					p.state[k] = v
				}
			}
			return res, nil
		default:
			return nil, fmt.Errorf("unexpected message %v: %s", m.Type, m.Payload)
		}
		err = p.stream.Send(&peer.ChaincodeMessage{Type: peer.ChaincodeMessage_RESPONSE, Txid: m.Txid, ChannelId: m.ChannelId, Payload: reply})
		if err != nil {
			return nil, err
		}
	}
}

// testCommitmentRaw is the commitment of record i of a test batch.
func testCommitmentRaw(batchID string, i int) [32]byte {
	return sha256.Sum256([]byte(fmt.Sprint(batchID, i)))
}

// testCommitment is testCommitmentRaw as PutBatch and GetRecord take it (lowercase hex).
func testCommitment(batchID string, i int) string {
	c := testCommitmentRaw(batchID, i)
	return hex.EncodeToString(c[:])
}

func batchArg(batchID string, n int) []byte {
	var b strings.Builder
	root := sha256.Sum256([]byte(batchID))
	fmt.Fprintf(&b, `{"batch_id":"%s","root":"%x","records":[`, batchID, root)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%s"`, testCommitment(batchID, i))
	}
	b.WriteString("]}")
	return []byte(b.String())
}

func TestServerOverMutualTLS(t *testing.T) {
	p := newPKI(t)
	addr := freeAddr(t)
	env := p.env(addr)
	env[envTLSClientCA] = p.otherCAFile + "," + p.caFile // multiple client CAs
	startServer(t, env)

	fp, err := dial(t, addr, p.clientTLS(p.peerClient), fabricDefaults)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2500
	res, err := fp.invoke("tx1", "PlatformMSP", []byte("PutBatch"), batchArg("b1", n))
	if err != nil {
		t.Fatal(err)
	}
	if res.resp.Status != shim.OK {
		t.Fatalf("PutBatch: %s", res.resp.Message)
	}
	if len(res.writes) != n+1 {
		t.Fatalf("%d writes", len(res.writes))
	}
	r7 := ledger.RecordKey(testCommitmentRaw("b1", 7))
	if rv, err := ledger.DecodeRecordValue(res.writes[r7]); err != nil || rv.LeafIndex != 7 || rv.BatchID != "b1" {
		t.Fatalf("record value %q: %+v %v", res.writes[r7], rv, err)
	}
	if !strings.HasSuffix(string(res.resp.Payload), `"size":2500,"tx_id":"tx1","msp":"PlatformMSP","ts":"2026-01-01T00:00:00.000000005Z"}`) {
		t.Fatalf("payload %s", res.resp.Payload)
	}
	if res.event == nil || res.event.EventName != "BatchAnchored" || !strings.HasSuffix(string(res.event.Payload), `"size":2500}`) {
		t.Fatalf("event %v", res.event)
	}
	// 2501 keys read in chunks of 1000, 2501 writes sent in chunks of 1000.
	if fp.msgs[peer.ChaincodeMessage_GET_STATE_MULTIPLE] != 3 || fp.msgs[peer.ChaincodeMessage_WRITE_BATCH_STATE] != 3 ||
		fp.msgs[peer.ChaincodeMessage_GET_STATE] != 0 || fp.msgs[peer.ChaincodeMessage_PUT_STATE] != 0 {
		t.Fatalf("shim messages: %v", fp.msgs)
	}

	// Overwrite refused through the real shim; nothing written.
	res, err = fp.invoke("tx2", "PlatformMSP", []byte("PutBatch"), batchArg("b1", 3))
	if err != nil {
		t.Fatal(err)
	}
	if res.resp.Status == shim.OK || res.resp.Message != `[batch_exists] batch "b1" already exists` || len(res.writes) != 0 {
		t.Fatalf("overwrite: %d %q %d writes", res.resp.Status, res.resp.Message, len(res.writes))
	}
	res, err = fp.invoke("tx3", "BankMSP", []byte("GetRecord"), []byte(testCommitment("b1", 7)))
	if err != nil || res.resp.Status != shim.OK || !strings.Contains(string(res.resp.Payload), `"batch_id":"b1","leaf_index":7}`) {
		t.Fatalf("GetRecord: %v %v", err, res.resp)
	}
	res, err = fp.invoke("tx4", "BankMSP", []byte("PutBatch"), batchArg("b2", 3))
	if err != nil || res.resp.Message != `[not_writer] writer MSP "BankMSP" is not allowed to write (allowed: PlatformMSP)` {
		t.Fatalf("writer check: %v %v", err, res.resp)
	}

	// A peer without write batches / multi-key reads (params not announced) still works.
	old, err := dial(t, addr, p.clientTLS(p.peerClient), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err = old.invoke("tx5", "PlatformMSP", []byte("PutBatch"), batchArg("b3", 10))
	if err != nil || res.resp.Status != shim.OK || len(res.writes) != 11 {
		t.Fatalf("old peer: %v %v", err, res)
	}
	if old.msgs[peer.ChaincodeMessage_GET_STATE] != 11 || old.msgs[peer.ChaincodeMessage_PUT_STATE] != 11 {
		t.Fatalf("old peer messages: %v", old.msgs)
	}

	// Mutual TLS: a client without a certificate, or with one from an untrusted CA, is refused.
	for name, client := range map[string]*certKey{"no client cert": nil, "untrusted client CA": newCert(t, "x", newCert(t, "rogue-ca", nil, true, nil), false, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})} {
		if _, err := dial(t, addr, p.clientTLS(client), fabricDefaults); err == nil {
			t.Fatalf("%s: connection accepted", name)
		} else {
			t.Logf("%s: refused: %v", name, err)
		}
	}
}

func BenchmarkShimPutBatch10000(b *testing.B) {
	p := newPKI(b)
	addr := freeAddr(b)
	startServer(b, p.env(addr))
	fp, err := dial(b, addr, p.clientTLS(p.peerClient), fabricDefaults)
	if err != nil {
		b.Fatal(err)
	}
	const n = 10000
	arg := batchArg("bench", n)
	b.SetBytes(int64(len(arg)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fp.state = map[string][]byte{}
		res, err := fp.invoke(fmt.Sprint("tx", i), "PlatformMSP", []byte("PutBatch"), arg)
		if err != nil || res.resp.Status != shim.OK {
			b.Fatal(err, res)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
