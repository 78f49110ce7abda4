// Command chaincode serves the credit-ledger chaincode as chaincode-as-a-service
// (the peer connects to it over gRPC with mutual TLS). Configuration comes from the
// environment; see README.md.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"

	"creditledger/chaincode/ledger"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
)

// Environment variables.
const (
	envCCID        = "CHAINCODE_ID"
	envAddress     = "CHAINCODE_SERVER_ADDRESS"
	envTLSKey      = "CHAINCODE_TLS_KEY_FILE"
	envTLSCert     = "CHAINCODE_TLS_CERT_FILE"
	envTLSClientCA = "CHAINCODE_TLS_CLIENT_CACERT_FILE"
	envTLSDisabled = "CHAINCODE_TLS_DISABLED"
	envWriterMSPs  = "LEDGER_WRITER_MSPS"
)

type config struct {
	CCID       string
	Address    string
	TLS        shim.TLSProperties
	WriterMSPs []string
}

// loadConfig reads and checks the configuration; getenv is os.Getenv in production.
func loadConfig(getenv func(string) string) (*config, error) {
	c := &config{
		CCID:    strings.TrimSpace(getenv(envCCID)),
		Address: strings.TrimSpace(getenv(envAddress)),
	}
	var problems []string
	if c.CCID == "" {
		problems = append(problems, envCCID+" is not set (the chaincode package id, e.g. ledgercc_1.0:abcd...)")
	}
	if c.Address == "" {
		problems = append(problems, envAddress+" is not set (listen address, e.g. 127.0.0.1:9999)")
	}

	msps, err := parseMSPList(getenv(envWriterMSPs))
	if err != nil {
		problems = append(problems, err.Error())
	}
	c.WriterMSPs = msps

	switch v := strings.ToLower(strings.TrimSpace(getenv(envTLSDisabled))); v {
	case "true", "1", "yes":
		c.TLS.Disabled = true
	case "", "false", "0", "no":
		if err := loadTLS(getenv, &c.TLS); err != nil {
			problems = append(problems, err.Error())
		}
	default:
		problems = append(problems, fmt.Sprintf("%s=%q: must be true or false", envTLSDisabled, v))
	}
	if len(problems) > 0 {
		return nil, errors.New("invalid configuration:\n  - " + strings.Join(problems, "\n  - "))
	}
	return c, nil
}

func parseMSPList(v string) ([]string, error) {
	if strings.TrimSpace(v) == "" {
		return append([]string(nil), ledger.DefaultWriterMSPs...), nil
	}
	var out []string
	seen := map[string]bool{}
	for _, m := range strings.Split(v, ",") {
		m = strings.TrimSpace(m)
		if m == "" || seen[m] {
			continue
		}
		seen[m] = true
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s=%q: no MSP id in the list", envWriterMSPs, v)
	}
	return out, nil
}

// loadTLS reads the server key pair and the client CA bundle(s) for mutual TLS.
func loadTLS(getenv func(string) string, t *shim.TLSProperties) error {
	var problems []string
	missing := false
	read := func(env, what string) []byte {
		path := strings.TrimSpace(getenv(env))
		if path == "" {
			problems = append(problems, fmt.Sprintf("%s is not set (%s)", env, what))
			missing = true
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: cannot read %s: %v", env, what, err))
			return nil
		}
		return b
	}
	key := read(envTLSKey, "server TLS private key, PEM")
	cert := read(envTLSCert, "server TLS certificate, PEM")
	if key != nil && cert != nil {
		if _, err := tls.X509KeyPair(cert, key); err != nil {
			problems = append(problems, fmt.Sprintf("%s / %s: not a usable key pair: %v", envTLSCert, envTLSKey, err))
		}
	}

	// Client CAs: one or more comma-separated PEM files (the peer orgs' TLS CAs).
	caPaths := strings.TrimSpace(getenv(envTLSClientCA))
	var bundle bytes.Buffer
	if caPaths == "" {
		problems = append(problems, fmt.Sprintf("%s is not set (comma-separated PEM files of the TLS CA(s) that issued the peers' client certificates)", envTLSClientCA))
		missing = true
	}
	for _, p := range strings.Split(caPaths, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: cannot read client CA file: %v", envTLSClientCA, err))
			continue
		}
		if n, err := countCerts(b); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %s: %v", envTLSClientCA, p, err))
			continue
		} else if n == 0 {
			problems = append(problems, fmt.Sprintf("%s: %s: no PEM certificate found", envTLSClientCA, p))
			continue
		}
		bundle.Write(b)
		bundle.WriteByte('\n')
	}
	if missing {
		problems = append(problems, fmt.Sprintf("mutual TLS is required; %s=true exists for local unit debugging only and must never be used on the network", envTLSDisabled))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n  - "))
	}
	t.Key, t.Cert, t.ClientCACerts = key, cert, bundle.Bytes()
	return nil
}

func countCerts(b []byte) (int, error) {
	n := 0
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return n, nil
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
			return n, fmt.Errorf("certificate %d: %v", n+1, err)
		}
		n++
	}
}

func newServer(cfg *config) *shim.ChaincodeServer {
	return &shim.ChaincodeServer{
		CCID:     cfg.CCID,
		Address:  cfg.Address,
		CC:       ledger.New(cfg.WriterMSPs),
		TLSProps: cfg.TLS,
	}
}

func main() {
	log.SetFlags(log.LstdFlags | log.LUTC)
	log.SetOutput(os.Stderr)
	log.SetPrefix("ledgercc: ")

	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		log.Printf("refusing to start: %v", err)
		os.Exit(2)
	}
	server := newServer(cfg)
	mode := "mutual TLS"
	if cfg.TLS.Disabled {
		mode = "TLS DISABLED (" + envTLSDisabled + "=true: local debugging only, not for the network)"
	}
	log.Printf("starting chaincode server: address=%s ccid=%s %s writer_msps=%s",
		cfg.Address, cfg.CCID, mode, strings.Join(cfg.WriterMSPs, ","))
	if err := server.Start(); err != nil {
		log.Printf("chaincode server stopped: %v", err)
		os.Exit(1)
	}
}
