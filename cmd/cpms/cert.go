package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func certCmd(c *cli, args []string) error {
	return subcommand(c, "cert", args, map[string]func(*cli, []string) error{"dev": certDev}, "dev [--out DIR] [--hosts localhost,127.0.0.1]")
}

// certDev writes a self-signed certificate for local HTTPS: browsers give cameras and
// microphones only to secure contexts.
func certDev(c *cli, args []string) error {
	f := newFlags(c, "cert dev", "cert dev [--out DIR] [--hosts localhost,127.0.0.1,::1] [--days 90]")
	out := f.str("out", "", ".", "folder to write cert.pem and key.pem to")
	hosts := f.String("hosts", "localhost,127.0.0.1,::1", "comma-separated host names and IP addresses the certificate is for")
	days := f.Int("days", 90, "validity in days")
	if err := f.parse(args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return usagef("unexpected arguments: %s", strings.Join(f.Args(), " "))
	}
	if *days < 1 || *days > 825 {
		return usagef("--days must be 1 to 825")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "CPMS development certificate", Organization: []string{"CPMS local development"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Duration(*days) * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range strings.Split(*hosts, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	certPath, keyPath := filepath.Join(*out, "cert.pem"), filepath.Join(*out, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "wrote %s and %s (valid %d days for %s)\nserve with: cpms serve --tls-cert %s --tls-key %s\n",
		certPath, keyPath, *days, *hosts, certPath, keyPath)
	return nil
}
