package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
)

// batchInput is a parsed PutBatch argument. Byte slices alias the input buffer
// (or hold an unescaped copy when the JSON string contained escapes).
type batchInput struct {
	BatchID []byte
	Root    []byte
	Records []recordInput
}

type recordInput struct {
	ID         []byte
	Commitment []byte
}

// parseBatch is a strict, allocation-light parser for
//
//	{"batch_id": "...", "root": "...", "records": [["id", "commitment"], ...]}
//
// It accepts any standard JSON encoding of that shape (any key order, whitespace,
// string escapes) and rejects: unknown or duplicate fields, missing fields, values of
// the wrong JSON type, record entries that are not 2-element string arrays, more than
// MaxRecords records, and trailing data. Field names match exactly (case-sensitive).
// Semantic checks (id pattern, hex) are done by validate, not here.
func parseBatch(data []byte) (*batchInput, error) {
	p := parser{b: data}
	in := &batchInput{}
	p.ws()
	if !p.eat('{') {
		return nil, p.errExpected("a JSON object")
	}
	var seenID, seenRoot, seenRecords bool
	p.ws()
	if !p.eat('}') {
		for {
			p.ws()
			if p.peek() != '"' {
				return nil, p.errExpected("an object key (string)")
			}
			key, err := p.str()
			if err != nil {
				return nil, err
			}
			p.ws()
			if !p.eat(':') {
				return nil, p.errExpected("':'")
			}
			p.ws()
			switch string(key) {
			case "batch_id":
				if seenID {
					return nil, errors.New(`invalid batch JSON: duplicate field "batch_id"`)
				}
				seenID = true
				if in.BatchID, err = p.strField("batch_id"); err != nil {
					return nil, err
				}
			case "root":
				if seenRoot {
					return nil, errors.New(`invalid batch JSON: duplicate field "root"`)
				}
				seenRoot = true
				if in.Root, err = p.strField("root"); err != nil {
					return nil, err
				}
			case "records":
				if seenRecords {
					return nil, errors.New(`invalid batch JSON: duplicate field "records"`)
				}
				seenRecords = true
				if in.Records, err = p.records(); err != nil {
					return nil, err
				}
			default:
				return nil, fmt.Errorf("invalid batch JSON: unknown field %s (allowed: batch_id, root, records)", quote(key))
			}
			p.ws()
			if p.eat(',') {
				continue
			}
			if p.eat('}') {
				break
			}
			return nil, p.errExpected("',' or '}'")
		}
	}
	p.ws()
	if p.i != len(p.b) {
		return nil, fmt.Errorf("invalid batch JSON at offset %d: unexpected data after the batch object", p.i)
	}
	switch {
	case !seenID:
		return nil, errors.New(`invalid batch JSON: missing field "batch_id"`)
	case !seenRoot:
		return nil, errors.New(`invalid batch JSON: missing field "root"`)
	case !seenRecords:
		return nil, errors.New(`invalid batch JSON: missing field "records"`)
	}
	return in, nil
}

type parser struct {
	b []byte
	i int
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *parser) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// found names the JSON value (or character) at the current position.
func (p *parser) found() string {
	if p.i >= len(p.b) {
		return "end of input"
	}
	switch c := p.b[p.i]; {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 'n':
		return "null"
	case c == 't' || c == 'f':
		return "boolean"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	default:
		return "character " + describeByte(c)
	}
}

func (p *parser) errExpected(what string) error {
	if p.i >= len(p.b) {
		return fmt.Errorf("invalid batch JSON: unexpected end of input, expected %s", what)
	}
	return fmt.Errorf("invalid batch JSON at offset %d: expected %s, found %s", p.i, what, p.found())
}

// strField reads a string value of a top-level field.
func (p *parser) strField(name string) ([]byte, error) {
	if p.peek() != '"' {
		return nil, fmt.Errorf("invalid batch JSON: %s must be a string, found %s", name, p.found())
	}
	return p.str()
}

// str reads a JSON string at p.i (which must be '"'). Without escapes the result
// aliases the input; with escapes it is decoded by encoding/json.
func (p *parser) str() ([]byte, error) {
	start := p.i
	p.i++ // opening quote
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start+1 : p.i : p.i]
			p.i++
			return s, nil
		case c == '\\':
			return p.escapedStr(start)
		case c < 0x20:
			return nil, fmt.Errorf("invalid batch JSON at offset %d: control character %s in string", p.i, describeByte(c))
		}
		p.i++
	}
	return nil, fmt.Errorf("invalid batch JSON at offset %d: unterminated string", start)
}

func (p *parser) escapedStr(start int) ([]byte, error) {
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '\\':
			p.i += 2
			continue
		case c == '"':
			p.i++
			var s string
			if err := json.Unmarshal(p.b[start:p.i], &s); err != nil {
				return nil, fmt.Errorf("invalid batch JSON at offset %d: bad string: %v", start, err)
			}
			return []byte(s), nil
		case c < 0x20:
			return nil, fmt.Errorf("invalid batch JSON at offset %d: control character %s in string", p.i, describeByte(c))
		}
		p.i++
	}
	return nil, fmt.Errorf("invalid batch JSON at offset %d: unterminated string", start)
}

func (p *parser) records() ([]recordInput, error) {
	if !p.eat('[') {
		return nil, fmt.Errorf("invalid batch JSON: records must be an array of [record_id, commitment] pairs, found %s", p.found())
	}
	// Rough size guess: a record is ~110 bytes of JSON.
	est := (len(p.b)-p.i)/100 + 1
	if est > MaxRecords {
		est = MaxRecords
	}
	recs := make([]recordInput, 0, est)
	p.ws()
	if p.eat(']') {
		return recs, nil
	}
	for n := 0; ; n++ {
		if n >= MaxRecords {
			return nil, fmt.Errorf("records: too many records (more than %d); split the batch", MaxRecords)
		}
		p.ws()
		if !p.eat('[') {
			return nil, fmt.Errorf("invalid batch JSON: records[%d] must be a [record_id, commitment] array, found %s", n, p.found())
		}
		var r recordInput
		var err error
		p.ws()
		if p.peek() != '"' {
			if p.peek() == ']' {
				return nil, fmt.Errorf("invalid batch JSON: records[%d] must have exactly 2 elements, got 0", n)
			}
			return nil, fmt.Errorf("invalid batch JSON: records[%d][0] (record id) must be a string, found %s", n, p.found())
		}
		if r.ID, err = p.str(); err != nil {
			return nil, err
		}
		p.ws()
		if !p.eat(',') {
			if p.peek() == ']' {
				return nil, fmt.Errorf("invalid batch JSON: records[%d] must have exactly 2 elements, got 1", n)
			}
			return nil, p.errExpected("','")
		}
		p.ws()
		if p.peek() != '"' {
			return nil, fmt.Errorf("invalid batch JSON: records[%d][1] (commitment) must be a string, found %s", n, p.found())
		}
		if r.Commitment, err = p.str(); err != nil {
			return nil, err
		}
		p.ws()
		if !p.eat(']') {
			if p.peek() == ',' {
				return nil, fmt.Errorf("invalid batch JSON: records[%d] must have exactly 2 elements, got more", n)
			}
			return nil, p.errExpected("']'")
		}
		recs = append(recs, r)
		p.ws()
		if p.eat(',') {
			continue
		}
		if p.eat(']') {
			return recs, nil
		}
		return nil, p.errExpected("',' or ']' in records")
	}
}
