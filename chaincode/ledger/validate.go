package ledger

import (
	"fmt"
	"strconv"
)

// IDPattern is the pattern every batch id, record id and Touch key must match.
const IDPattern = `^[A-Za-z0-9._:-]{1,128}$`

const (
	// MaxIDLen is the maximum length of an id in bytes.
	MaxIDLen = 128
	// HexLen is the length of a root or commitment: a SHA-256 digest as lowercase hex.
	HexLen = 64
	// MaxRecords is the maximum number of records in one batch.
	MaxRecords = 50000
)

var idChar, hexChar [256]bool

func init() {
	for c := 'a'; c <= 'z'; c++ {
		idChar[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		idChar[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		idChar[c] = true
		hexChar[c] = true
	}
	for _, c := range "._:-" {
		idChar[c] = true
	}
	for c := 'a'; c <= 'f'; c++ {
		hexChar[c] = true
	}
}

// validID reports whether s matches IDPattern.
func validID[T ~string | ~[]byte](s T) bool {
	if len(s) == 0 || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !idChar[s[i]] {
			return false
		}
	}
	return true
}

// idError formats `<what> "<value>": must match <pattern>`; long values are truncated.
func idError[T ~string | ~[]byte](what string, s T) error {
	return fmt.Errorf("%s %s: must match %s", what, quote(s), IDPattern)
}

// quote renders a (possibly hostile) value for an error message: Go-quoted, at most
// 140 bytes of it, and marks truncation.
func quote[T ~string | ~[]byte](s T) string {
	const max = 140
	if len(s) > max {
		return strconv.Quote(string(s[:max])) + "..." + "(" + strconv.Itoa(len(s)) + " bytes)"
	}
	return strconv.Quote(string(s))
}

// checkHex returns "" if s is exactly 64 lowercase hex characters, else a description
// of the problem ("got 63", "got invalid character 'G' at position 5").
func checkHex[T ~string | ~[]byte](s T) string {
	if len(s) != HexLen {
		return "got " + strconv.Itoa(len(s))
	}
	for i := 0; i < len(s); i++ {
		if !hexChar[s[i]] {
			return fmt.Sprintf("got invalid character %s at position %d", describeByte(s[i]), i)
		}
	}
	return ""
}

// describeByte renders one input byte for an error message.
func describeByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}
