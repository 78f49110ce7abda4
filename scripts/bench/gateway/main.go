// Command gateway-bench measures submit throughput and latency of the official Go
// Fabric Gateway client (github.com/hyperledger/fabric-gateway/pkg/client), doing the
// same calls as scripts/bench_gateway.py does with the Python fabric_gateway client:
// N concurrent submitters, each looping endorse + submit + wait-for-commit of a cheap
// chaincode function. Prints one JSON object on stdout.
package main

import (
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-gateway/pkg/identity"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

type result struct {
	Client       string  `json:"client"`
	Concurrency  int     `json:"concurrency"`
	Function     string  `json:"function"`
	Transactions int64   `json:"transactions"`
	Errors       int64   `json:"errors"`
	Seconds      float64 `json:"seconds"`
	TPS          float64 `json:"tps"`
	P50ms        float64 `json:"p50_ms"`
	P99ms        float64 `json:"p99_ms"`
	CPUms        float64 `json:"cpu_ms_per_tx"`
	FirstError   string  `json:"first_error,omitempty"`
}

func firstFile(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if !e.IsDir() {
			return filepath.Join(dir, e.Name()), nil
		}
	}
	return "", fmt.Errorf("no file in %s", dir)
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gateway-bench:", err)
		os.Exit(1)
	}
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return float64(sorted[i].Microseconds()) / 1000
}

func main() {
	address := flag.String("peer", "127.0.0.1:27030", "gateway peer address")
	target := flag.String("target", "", "TLS server name of the peer")
	tlsCA := flag.String("tls-ca", "", "PEM file of the peer's TLS CA")
	mspDir := flag.String("msp-dir", "", "user MSP folder (signcerts/, keystore/)")
	mspID := flag.String("msp-id", "PlatformMSP", "MSP id")
	channel := flag.String("channel", "ledger", "channel name")
	chaincode := flag.String("chaincode", "ledger", "chaincode name")
	fn := flag.String("fn", "Touch", "transaction function to submit (one key argument)")
	concurrency := flag.Int("concurrency", 32, "concurrent submitters")
	duration := flag.Duration("duration", 20*time.Second, "measured duration")
	warmup := flag.Duration("warmup", 2*time.Second, "warm-up duration (not measured)")
	flag.Parse()

	certPath, err := firstFile(filepath.Join(*mspDir, "signcerts"))
	must(err)
	keyPath, err := firstFile(filepath.Join(*mspDir, "keystore"))
	must(err)
	certPEM, err := os.ReadFile(certPath)
	must(err)
	keyPEM, err := os.ReadFile(keyPath)
	must(err)
	cert, err := identity.CertificateFromPEM(certPEM)
	must(err)
	id, err := identity.NewX509Identity(*mspID, cert)
	must(err)
	key, err := identity.PrivateKeyFromPEM(keyPEM)
	must(err)
	sign, err := identity.NewPrivateKeySign(key)
	must(err)

	caPEM, err := os.ReadFile(*tlsCA)
	must(err)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	conn, err := grpc.NewClient(*address, grpc.WithTransportCredentials(credentials.NewClientTLSFromCert(pool, *target)))
	must(err)
	defer conn.Close()

	gw, err := client.Connect(id, client.WithSign(sign), client.WithClientConnection(conn),
		client.WithEvaluateTimeout(5*time.Second), client.WithEndorseTimeout(15*time.Second),
		client.WithSubmitTimeout(5*time.Second), client.WithCommitStatusTimeout(60*time.Second))
	must(err)
	defer gw.Close()
	contract := gw.GetNetwork(*channel).GetContract(*chaincode)

	var (
		measuring  atomic.Bool
		stop       atomic.Bool
		count      atomic.Int64
		errCount   atomic.Int64
		firstError atomic.Value
		mu         sync.Mutex
		latencies  []time.Duration
		wg         sync.WaitGroup
	)
	for w := 0; w < *concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			local := make([]time.Duration, 0, 1024)
			for i := 0; !stop.Load(); i++ {
				t0 := time.Now()
				_, err := contract.SubmitTransaction(*fn, "go-w"+strconv.Itoa(w)+"-"+strconv.Itoa(i))
				if !measuring.Load() {
					continue
				}
				if err != nil {
					errCount.Add(1)
					firstError.CompareAndSwap(nil, err.Error())
					continue
				}
				local = append(local, time.Since(t0))
				count.Add(1)
			}
			mu.Lock()
			latencies = append(latencies, local...)
			mu.Unlock()
		}(w)
	}
	time.Sleep(*warmup)
	measuring.Store(true)
	start := time.Now()
	cpuStart := cpuSeconds()
	time.Sleep(*duration)
	measuring.Store(false)
	elapsed := time.Since(start).Seconds()
	cpu := cpuSeconds() - cpuStart
	stop.Store(true)
	wg.Wait()

	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	r := result{
		Client:       "go:fabric-gateway@v1.7.1",
		Concurrency:  *concurrency,
		Function:     *fn,
		Transactions: count.Load(),
		Errors:       errCount.Load(),
		Seconds:      elapsed,
		TPS:          float64(count.Load()) / elapsed,
		P50ms:        percentile(latencies, 0.50),
		P99ms:        percentile(latencies, 0.99),
	}
	if r.Transactions > 0 {
		r.CPUms = cpu * 1000 / float64(r.Transactions)
	}
	if v, ok := firstError.Load().(string); ok {
		r.FirstError = v
	}
	must(json.NewEncoder(os.Stdout).Encode(r))
}
