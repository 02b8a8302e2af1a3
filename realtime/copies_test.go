package realtime_test

import (
	"bytes"
	"encoding/json/v2"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The copies of PocketBase code in pocketbase.go are a contract: verbatim
// from the PocketBase version go.mod pins, apart from the renames their
// directives list. This file checks it against the module's own source, so
// that an upgrade of PocketBase fails here, naming each copy to redo,
// instead of silently keeping the old behaviour in Hearth's deliveries.

const copiesFile = "pocketbase.go"

// pocketbaseModule is the pinned PocketBase module as the go command
// resolves it (replace directives included): its version and its source
// directory in the module cache, which the build has filled.
type pocketbaseModule struct {
	Version string
	Dir     string
}

func findPocketBase(t *testing.T) pocketbaseModule {
	t.Helper()
	// go test puts its own toolchain's bin first in PATH.
	out, err := exec.Command("go", "list", "-m", "-json", "github.com/pocketbase/pocketbase").Output()
	if err != nil {
		t.Fatalf("go list -m github.com/pocketbase/pocketbase: %v", err)
	}
	var m struct {
		pocketbaseModule
		Replace *pocketbaseModule
	}
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("go list -m -json output: %v", err)
	}
	if m.Replace != nil {
		// A replacement by a local directory has no version: its source
		// stands in for the required one.
		m.Dir = m.Replace.Dir
		if m.Replace.Version != "" {
			m.Version = m.Replace.Version
		}
	}
	if m.Dir == "" {
		t.Fatalf("PocketBase %s is not in the module cache: run go mod download github.com/pocketbase/pocketbase", m.Version)
	}
	return m.pocketbaseModule
}

// directive is one copy's source, read from the comment above it:
//
//	// copied verbatim from pocketbase@VERSION FILE NAME
//	// statements from "FIRST" to "NEXT"
//	// renames: upstream->copy, ...
//
// NAME is a top-level function, type, var or const, or TYPE.METHOD. With
// the statements line the copy is a part of NAME's body: upstream, the
// statements of one block from the one that begins with FIRST to the one
// before the one that begins with NEXT; in the copy, the statements from
// FIRST to the end of their block, less a final return (how the copy hands
// back what upstream's following statements use). Renames are identifiers
// as upstream spells them and as the copy does (a package qualifier
// included, such as RealtimeClientAuthKey->apis.RealtimeClientAuthKey).
type directive struct {
	version, file, name string
	from, to            string
	renames             map[string]string
	decl                ast.Decl
}

var (
	copiedRe     = regexp.MustCompile(`^// copied verbatim from pocketbase@(\S+) (\S+) (\S+)$`)
	statementsRe = regexp.MustCompile(`^// statements from "(.+)" to "(.+)"$`)
	renamesRe    = regexp.MustCompile(`^// renames: (.+)$`)
)

// directives returns the directive of every top-level declaration of f,
// and an error for each declaration without one: the file holds copies only.
func directives(fset *token.FileSet, f *ast.File) ([]directive, []error) {
	var out []directive
	var errs []error
	for _, decl := range f.Decls {
		var doc *ast.CommentGroup
		switch d := decl.(type) {
		case *ast.FuncDecl:
			doc = d.Doc
		case *ast.GenDecl:
			if d.Tok == token.IMPORT {
				continue
			}
			doc = d.Doc
		}
		d := directive{decl: decl}
		if doc != nil {
			for _, c := range doc.List {
				if m := copiedRe.FindStringSubmatch(c.Text); m != nil {
					d.version, d.file, d.name = m[1], m[2], m[3]
				} else if m := statementsRe.FindStringSubmatch(c.Text); m != nil {
					d.from, d.to = m[1], m[2]
				} else if m := renamesRe.FindStringSubmatch(c.Text); m != nil {
					d.renames = map[string]string{}
					for _, pair := range strings.Split(m[1], ", ") {
						from, to, ok := strings.Cut(pair, "->")
						if !ok {
							errs = append(errs, fmt.Errorf("%s: rename %q is not upstream->copy", fset.Position(c.Pos()), pair))
						}
						d.renames[from] = to
					}
				}
			}
		}
		if d.name == "" {
			errs = append(errs, fmt.Errorf("%s: declaration without a \"// copied verbatim from pocketbase@VERSION FILE NAME\" line", fset.Position(decl.Pos())))
			continue
		}
		out = append(out, d)
	}
	return out, errs
}

// upstreamCode returns the normalized code of d's original in f, renamed.
func upstreamCode(fset *token.FileSet, f *ast.File, d directive) ([]string, error) {
	decl := findDecl(f, d.name)
	if decl == nil {
		return nil, fmt.Errorf("%s is gone from %s", d.name, d.file)
	}
	rename(decl, d.renames)
	defer rename(decl, invert(d.renames))
	if d.from == "" {
		return code(fset, decl), nil
	}
	stmts, at := statementsFrom(fset, decl, d.from)
	if stmts == nil {
		return nil, fmt.Errorf("no statement %q in %s", d.from, d.name)
	}
	for i := at; i < len(stmts); i++ {
		if strings.HasPrefix(firstLine(fset, stmts[i]), d.to) {
			return stmtsCode(fset, stmts[at:i]), nil
		}
	}
	return nil, fmt.Errorf("no statement %q after %q in %s", d.to, d.from, d.name)
}

// copyCode returns the normalized code of the copy d.
func copyCode(fset *token.FileSet, d directive) ([]string, error) {
	if d.from == "" {
		return code(fset, d.decl), nil
	}
	stmts, at := statementsFrom(fset, d.decl, d.from)
	if stmts == nil {
		return nil, fmt.Errorf("the copy has no statement %q", d.from)
	}
	stmts = stmts[at:]
	if _, ok := stmts[len(stmts)-1].(*ast.ReturnStmt); ok {
		stmts = stmts[:len(stmts)-1]
	}
	return stmtsCode(fset, stmts), nil
}

// findDecl returns the top-level declaration of name in f: a function, a
// method (TYPE.METHOD), or the declaration holding a type, var or const.
func findDecl(f *ast.File, name string) ast.Decl {
	recv, method, isMethod := strings.Cut(name, ".")
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if isMethod != (d.Recv != nil) {
				continue
			}
			if !isMethod && d.Name.Name == name || isMethod && d.Name.Name == method && receiverType(d) == recv {
				return d
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if s.Name.Name == name {
						return d
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.Name == name {
							return d
						}
					}
				}
			}
		}
	}
	return nil
}

func receiverType(d *ast.FuncDecl) string {
	var name string
	ast.Inspect(d.Recv.List[0].Type, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && name == "" {
			name = id.Name
		}
		return name == ""
	})
	return name
}

// statementsFrom finds, in decl, the block holding the statement whose
// code begins with first, and returns the block's statements and its index.
func statementsFrom(fset *token.FileSet, decl ast.Decl, first string) ([]ast.Stmt, int) {
	var stmts []ast.Stmt
	at := -1
	ast.Inspect(decl, func(n ast.Node) bool {
		b, ok := n.(*ast.BlockStmt)
		if !ok || stmts != nil {
			return stmts == nil
		}
		for i, s := range b.List {
			if strings.HasPrefix(firstLine(fset, s), first) {
				stmts, at = b.List, i
				return false
			}
		}
		return true
	})
	return stmts, at
}

func rename(decl ast.Decl, renames map[string]string) {
	if len(renames) == 0 {
		return
	}
	ast.Inspect(decl, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			if to, ok := renames[id.Name]; ok {
				id.Name = to
			}
		}
		return true
	})
}

func invert(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

// stripComments drops the comments the printer would print without a
// CommentedNode: those attached to declarations, specs and fields.
func stripComments(n ast.Node) {
	ast.Inspect(n, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.FuncDecl:
			x.Doc = nil
		case *ast.GenDecl:
			x.Doc = nil
		case *ast.Field:
			x.Doc, x.Comment = nil, nil
		case *ast.ValueSpec:
			x.Doc, x.Comment = nil, nil
		case *ast.TypeSpec:
			x.Doc, x.Comment = nil, nil
		}
		return true
	})
}

// code prints n without its comments (copied too, but not part of the
// contract: the printer prints none it is not given, once stripComments
// removed those attached to nodes) and normalizes the layout: each line trimmed, blank lines
// dropped, so that nesting depth and the blank lines a removed comment
// leaves do not count.
func code(fset *token.FileSet, n ast.Node) []string {
	stripComments(n)
	var b bytes.Buffer
	if err := printer.Fprint(&b, fset, n); err != nil {
		return []string{"print error: " + err.Error()}
	}
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func stmtsCode(fset *token.FileSet, stmts []ast.Stmt) []string {
	var out []string
	for _, s := range stmts {
		out = append(out, code(fset, s)...)
	}
	return out
}

func firstLine(fset *token.FileSet, n ast.Node) string {
	if lines := code(fset, n); len(lines) > 0 {
		return lines[0]
	}
	return ""
}

// lineDiff is a short unified-style diff of a (upstream) and b (copy):
// the differing lines with two lines of context around each change.
func lineDiff(a, b []string) string {
	// Longest common subsequence, by dynamic programming: the functions
	// compared are at most a few hundred lines.
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var lines []line
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			lines = append(lines, line{' ', a[i]})
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			lines = append(lines, line{'-', a[i]})
			i++
		default:
			lines = append(lines, line{'+', b[j]})
			j++
		}
	}
	const context = 2
	var out strings.Builder
	last := -1
	for k, l := range lines {
		near := false
		for d := max(0, k-context); d <= min(len(lines)-1, k+context); d++ {
			near = near || lines[d].op != ' '
		}
		if !near {
			continue
		}
		if last >= 0 && k > last+1 {
			out.WriteString("  ...\n")
		}
		fmt.Fprintf(&out, "%c %s\n", l.op, l.text)
		last = k
	}
	return out.String()
}

func TestCopiesMatchPocketBase(t *testing.T) {
	t.Parallel()
	pb := findPocketBase(t)
	fset := token.NewFileSet()
	copies, err := parser.ParseFile(fset, copiesFile, nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	ds, errs := directives(fset, copies)
	for _, err := range errs {
		t.Error(err)
	}
	if len(ds) == 0 {
		t.Fatalf("no copy directives in %s", copiesFile)
	}
	stale := map[string][]string{}
	for _, d := range ds {
		if d.version != pb.Version {
			stale[d.version] = append(stale[d.version], d.name)
		}
	}
	for version, names := range stale {
		t.Errorf("go.mod pins PocketBase %s, but %s copies %s from %s: re-copy, verbatim, each declaration "+
			"reported below as differing from %s's source (%s), adapt the callers, then write %s in the directives",
			pb.Version, copiesFile, strings.Join(names, ", "), version, pb.Version, pb.Dir, pb.Version)
	}

	upstream := map[string]*ast.File{}
	for _, d := range ds {
		f, ok := upstream[d.file]
		if !ok {
			f, err = parser.ParseFile(fset, filepath.Join(pb.Dir, d.file), nil, 0)
			if err != nil {
				t.Errorf("%s of pocketbase@%s: %v", d.file, pb.Version, err)
				continue
			}
			upstream[d.file] = f
		}
		want, err := upstreamCode(fset, f, d)
		if err != nil {
			t.Errorf("%s %s (pocketbase@%s): %v; re-copy it", d.file, d.name, pb.Version, err)
			continue
		}
		got, err := copyCode(fset, d)
		if err != nil {
			t.Errorf("%s's copy of %s: %v", copiesFile, d.name, err)
			continue
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s %s of pocketbase@%s differs from its copy in %s (- upstream, + copy):\n%s",
				d.file, d.name, pb.Version, copiesFile, lineDiff(want, got))
		}
	}
}

// The comparison itself: renames are applied, layout and comments do not
// count, a changed statement does and is shown.
func TestCopyComparison(t *testing.T) {
	t.Parallel()
	const upstream = `package apis

func realtimeCheck(n int) bool {
	// upstream's comment
	return helper(n) > RealtimeLimit
}

func broadcast(xs []int) {
	for _, x := range xs {
		if x < 0 {
			continue
		}
		y := x * 2
		send(y)
	}
}
`
	cases := []struct {
		name, copy string
		same       bool
		diff       string
	}{
		{"renamed, comment and layout differ", `package realtime

// copied verbatim from pocketbase@v1 apis/x.go realtimeCheck
// renames: realtimeCheck->check, RealtimeLimit->apis.RealtimeLimit
func check(n int) bool {

	return helper(n) > apis.RealtimeLimit
}
`, true, ""},
		{"a changed statement", `package realtime

// copied verbatim from pocketbase@v1 apis/x.go realtimeCheck
func realtimeCheck(n int) bool {
	return helper(n) >= RealtimeLimit
}
`, false, "- return helper(n) > RealtimeLimit\n+ return helper(n) >= RealtimeLimit\n"},
		{"a fragment", `package realtime

// copied verbatim from pocketbase@v1 apis/x.go broadcast
// statements from "y := x * 2" to "send(y)"
func double(x int) int {
	for range 1 {
		y := x * 2
		return y
	}
	return 0
}
`, true, ""},
		{"a fragment that starts elsewhere", `package realtime

// copied verbatim from pocketbase@v1 apis/x.go broadcast
// statements from "if x < 0 {" to "send(y)"
func double(x int) int {
	for range 1 {
		y := x * 2
		return y
	}
	return 0
}
`, false, ""},
	}
	fset := token.NewFileSet()
	up, err := parser.ParseFile(fset, "x.go", upstream, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		f, err := parser.ParseFile(fset, "copy.go", c.copy, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		ds, errs := directives(fset, f)
		if len(errs) > 0 || len(ds) != 1 {
			t.Fatalf("%s: directives %v, errors %v", c.name, ds, errs)
		}
		want, uerr := upstreamCode(fset, up, ds[0])
		got, cerr := copyCode(fset, ds[0])
		same := uerr == nil && cerr == nil && strings.Join(got, "\n") == strings.Join(want, "\n")
		if same != c.same {
			t.Errorf("%s: same %v, want %v (upstream %q %v, copy %q %v)", c.name, same, c.same, want, uerr, got, cerr)
		}
		if c.diff != "" {
			if d := lineDiff(want, got); !strings.Contains(d, c.diff) {
				t.Errorf("%s: diff\n%s\nwant it to contain\n%s", c.name, d, c.diff)
			}
		}
	}
}
