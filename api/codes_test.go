package api

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
)

// readGraderErrorFile returns the error-code constants that grader/error.go
// declares (name -> value): every string constant named E followed by capitals.
func readGraderErrorFile() (map[string]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "../grader/error.go", nil, 0)
	if err != nil {
		return nil, err
	}
	codes := map[string]string{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if len(name.Name) < 2 || name.Name[0] != 'E' || strings.ToUpper(name.Name) != name.Name || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					return nil, err
				}
				codes[name.Name] = v
			}
		}
	}
	return codes, nil
}
