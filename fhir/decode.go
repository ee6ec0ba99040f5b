package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	r4 "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// ResourceType reads the resourceType of a JSON resource.
func ResourceType(data []byte) (string, error) {
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return "", parseError(err)
	}
	if head.ResourceType == "" {
		return "", Errorf(StatusBadRequest, IssueStructure, "not a FHIR resource: resourceType is missing", "resourceType")
	}
	return head.ResourceType, nil
}

// decode reads data, a JSON resource of type want, into v (a struct embedding the wire type and
// a ResourceType field). It refuses other resource types, unknown elements, wrong types and
// trailing data; it returns the top-level elements present, for required-element checks.
func decode(data []byte, want string, v any) (map[string]json.RawMessage, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, parseError(err)
	}
	var rt string
	if raw, ok := top["resourceType"]; !ok || json.Unmarshal(raw, &rt) != nil || rt == "" {
		return nil, Errorf(StatusBadRequest, IssueStructure, "not a FHIR resource: resourceType is missing", "resourceType")
	}
	if rt != want {
		return nil, Errorf(StatusBadRequest, IssueStructure, "the resource is a "+safeName(rt)+", expected a "+want, "resourceType")
	}
	if _, ok := top["contained"]; ok {
		return nil, Errorf(StatusUnprocessable, IssueNotSupported, "contained resources are not supported", want+".contained")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return nil, parseError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, Errorf(StatusBadRequest, IssueStructure, "unexpected data after the resource")
	}
	return top, nil
}

// parseError describes a JSON decoding error without echoing values from the request.
func parseError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	msg := err.Error()
	switch {
	case errors.As(err, &syn):
		return Errorf(StatusBadRequest, IssueStructure, "malformed JSON at byte "+itoa(int(syn.Offset)))
	case errors.As(err, &typ):
		field := typ.Field
		if i := strings.Index(field, "."); i >= 0 && strings.HasPrefix(field, "Other") {
			field = field[i+1:]
		}
		if field == "" {
			return Errorf(StatusBadRequest, IssueStructure, "the body is not a JSON object")
		}
		return Errorf(StatusBadRequest, IssueStructure, "element "+safeName(field)+" has the wrong JSON type ("+typ.Value+")")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return Errorf(StatusBadRequest, IssueStructure, "the body is empty or cut short")
	case strings.HasPrefix(msg, "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
		if strings.HasPrefix(name, "_") {
			return Errorf(StatusBadRequest, IssueStructure, "element "+safeName(name)+": extensions of primitive elements are not supported")
		}
		return Errorf(StatusBadRequest, IssueStructure, "unknown element "+safeName(name)+" (this server reads FHIR R4)")
	case strings.HasPrefix(msg, "unknown ") && strings.Contains(msg, " code "):
		// The wire types' enumerations: "unknown AdministrativeGender code `x`". The value is
		// left out.
		typ := strings.TrimPrefix(msg[:strings.Index(msg, " code ")], "unknown ")
		return Errorf(StatusBadRequest, IssueCodeInvalid, "a code outside the "+safeName(typ)+" value set")
	}
	return Errorf(StatusBadRequest, IssueStructure, "the body is not a valid FHIR JSON resource")
}

// safeName keeps an element or type name from a request printable and short.
func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 64 {
			b.WriteString("…")
			break
		}
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-' || r == '[' || r == ']' {
			b.WriteRune(r)
		} else {
			b.WriteRune('?')
		}
	}
	return `"` + b.String() + `"`
}

func itoa(n int) string { return VersionID(n) }

type bundleJSON struct {
	r4.OtherBundle
	ResourceType string `json:"resourceType"`
}

// DecodeBundle reads a Bundle; its entries' resources stay raw, for the decoder of their type.
func DecodeBundle(data []byte) (r4.Bundle, error) {
	var b bundleJSON
	top, err := decode(data, "Bundle", &b)
	if err != nil {
		return r4.Bundle{}, err
	}
	if _, ok := top["type"]; !ok {
		return r4.Bundle{}, Errorf(StatusBadRequest, IssueRequired, "the Bundle type is required", "Bundle.type")
	}
	return r4.Bundle(b.OtherBundle), nil
}
