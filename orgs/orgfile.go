package orgs

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/unionhub/unionhub/storage"
)

// orgColumns are the fields of an organisation in a YAML item or CSV header.
var orgColumns = []string{"code", "name", "parent", "level", "members", "timezone", "board_reminder"}

// ParseFile reads an organisation tree from YAML (a top-level "orgs" list)
// or CSV (a header row naming the columns). Every problem is reported with
// its file and line; validation against the tree happens in
// storage.PlanImport. The command line and the console read files alike.
func ParseFile(name string, r io.Reader) ([]storage.OrgInput, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml":
		return parseOrgYAML(name, r)
	case ".csv":
		return parseOrgCSV(name, r)
	}
	return nil, fmt.Errorf("%s: unknown format: use .yaml, .yml or .csv", name)
}

func parseOrgYAML(name string, r io.Reader) ([]storage.OrgInput, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:1: expected a mapping with an \"orgs\" list", name)
	}
	root := doc.Content[0]
	var list *yaml.Node
	listLine := 0
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "orgs" {
			if list != nil {
				return nil, fmt.Errorf("%s:%d: \"orgs\" given twice (first at line %d)", name, root.Content[i].Line, listLine)
			}
			list, listLine = root.Content[i+1], root.Content[i].Line
		} else {
			return nil, fmt.Errorf("%s:%d: unknown key %q (expected \"orgs\")", name, root.Content[i].Line, root.Content[i].Value)
		}
	}
	if list == nil || list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s:%d: \"orgs\" must be a list", name, root.Line)
	}
	var orgs []storage.OrgInput
	var errs []error
	for _, item := range list.Content {
		src := fmt.Sprintf("%s:%d", name, item.Line)
		if item.Kind != yaml.MappingNode {
			errs = append(errs, fmt.Errorf("%s: each org must be a mapping", src))
			continue
		}
		fields := map[string]string{}
		keyLine := map[string]int{}
		bad := false
		for i := 0; i+1 < len(item.Content); i += 2 {
			k, v := item.Content[i], item.Content[i+1]
			if !isOrgColumn(k.Value) {
				errs = append(errs, fmt.Errorf("%s:%d: unknown field %q (known: %s)", name, k.Line, k.Value, strings.Join(orgColumns, ", ")))
				bad = true
				continue
			}
			if first, dup := keyLine[k.Value]; dup {
				errs = append(errs, fmt.Errorf("%s:%d: field %q given twice (first at line %d)", name, k.Line, k.Value, first))
				bad = true
				continue
			}
			keyLine[k.Value] = k.Line
			if v.Kind != yaml.ScalarNode {
				errs = append(errs, fmt.Errorf("%s:%d: field %q must be a single value", name, v.Line, k.Value))
				bad = true
				continue
			}
			fields[k.Value] = v.Value
		}
		if bad {
			continue
		}
		in, err := orgInput(src, fields)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		orgs = append(orgs, in)
	}
	return orgs, errors.Join(errs...)
}

func parseOrgCSV(name string, r io.Reader) ([]storage.OrgInput, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:1: read header: %w", name, err)
	}
	header[0] = strings.TrimPrefix(header[0], "\ufeff") // a BOM from spreadsheet exports
	var headerErrs []error
	seen := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		header[i] = h
		switch first, dup := seen[h]; {
		case !isOrgColumn(h):
			headerErrs = append(headerErrs, fmt.Errorf("%s:1: unknown column %q (known: %s)", name, h, strings.Join(orgColumns, ", ")))
		case dup:
			headerErrs = append(headerErrs, fmt.Errorf("%s:1: column %q given twice (columns %d and %d)", name, h, first+1, i+1))
		default:
			seen[h] = i
		}
	}
	if len(headerErrs) > 0 {
		return nil, errors.Join(headerErrs...)
	}
	var orgs []storage.OrgInput
	var errs []error
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, errors.Join(append(errs, fmt.Errorf("%s:%d: %v", name, pe.Line, pe.Err))...)
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		fields := map[string]string{}
		for i, h := range header {
			fields[h] = strings.TrimSpace(rec[i])
		}
		in, err := orgInput(fmt.Sprintf("%s:%d", name, line), fields)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		orgs = append(orgs, in)
	}
	return orgs, errors.Join(errs...)
}

func isOrgColumn(s string) bool {
	for _, c := range orgColumns {
		if s == c {
			return true
		}
	}
	return false
}

func orgInput(src string, f map[string]string) (storage.OrgInput, error) {
	in := storage.OrgInput{
		Code: f["code"], Name: f["name"], ParentCode: f["parent"],
		Level: storage.Level(f["level"]), TimeZone: f["timezone"], BoardCron: f["board_reminder"], Source: src,
	}
	if m := f["members"]; m != "" {
		n, err := strconv.Atoi(m)
		if errors.Is(err, strconv.ErrRange) {
			return in, fmt.Errorf("%s: members %q is too large (at most %d)", src, m, storage.MaxMemberCount)
		}
		if err != nil {
			return in, fmt.Errorf("%s: members %q is not a whole number", src, m)
		}
		in.MemberCount = n
	}
	return in, nil
}
