package pyscan_test

import (
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/pyscan"
)

func TestScanFindsGraderAttacks(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // "line:what"
	}{
		{"import _pytest", "import _pytest\n", []string{"1:import _pytest"}},
		{"import _pytest submodule", "import json\nimport _pytest.runner as r\n", []string{"2:import _pytest.runner"}},
		{"from pluggy", "from pluggy import HookimplMarker\n", []string{"1:import pluggy"}},
		{"our plugin", "x = 1\nfrom djgrade_judge import QueryRecorder\n", []string{"2:import djgrade_judge"}},
		{"our init", "import os, djgrade_agent\n", []string{"1:import djgrade_agent"}},
		{"ctypes", "import ctypes.util\n", []string{"1:import ctypes.util"}},
		{"several on one line", "import os; import _pytest\n", []string{"1:import _pytest"}},
		{"in a function", "def f():\n    import _pytest\n    _pytest.skip('x')\n", []string{"2:import _pytest"}},
		{"sys.modules", "import sys\nplugin = sys.modules.get('json')\n", []string{"2:sys.modules"}},
		{"sys aliased", "import sys as s\ns.modules['x'] = None\n", []string{"2:sys.modules"}},
		{"from sys import modules", "from sys import modules as m\n", []string{"1:sys.modules"}},
		{"gc.get_objects", "import gc\nfor o in gc.get_objects():\n    pass\n", []string{"2:gc.get_objects"}},
		{"os._exit", "import os\n\ndef f():\n    os._exit(0)\n", []string{"4:os._exit"}},
		{"os._exit spaced", "import os\nos . _exit ( 0 )\n", []string{"2:os._exit"}},
		{"from os import _exit", "from os import path, _exit\n", []string{"1:os._exit"}},
		{"from os import star", "from os import *\n", []string{"1:from os import *"}},
		{"getattr", "import os\ngetattr(os, '_exit')(0)\n", []string{"2:os._exit"}},
		{"import atexit", "import atexit\natexit.register(print)\n", []string{"1:import atexit", "2:atexit.register"}},
		{"from atexit", "from atexit import register\n", []string{"1:atexit.register"}},
		{"dynamic import", "mod = __import__('_pytest.reports')\n", []string{"1:reference to _pytest.reports"}},
		{"importlib", "import importlib\nimportlib.import_module(\"_pytest\")\n", []string{"2:reference to _pytest"}},
		{"continued line", "import os, \\\n    _pytest\n", []string{"1:import _pytest"}},
		{"parenthesised from", "from _pytest.reports import (\n    TestReport,\n)\nx = 1\n", []string{"1:import _pytest.reports"}},
		{"line after a triple-quoted string", "'''doc\nstring\n'''\nimport _pytest\n", []string{"4:import _pytest"}},
		{"unterminated string", "x = 'abc\nimport _pytest\n", []string{"2:import _pytest"}},
		{"the reviewer's swap", "import importlib as _il\n_m = _il.import_module(\"djgrade_py\" + \"test\")\ndef _o(self):\n    return \"passed\"\n_m._TestEntry.outcome.__code__ = _o.__code__\n",
			[]string{"2:import with a computed name", "5:assignment to __code__"}},
		{"__code__ spaced", "f . __code__ = g.__code__\n", []string{"1:assignment to __code__"}},
		{"setattr __code__", "setattr(f, '__code__', g.__code__)\n", []string{"1:reference to __code__"}},
		{"__globals__", "f.__globals__['x'] = 1\n", []string{"1:access to __globals__"}},
		{"__closure__", "for c in f.__closure__:\n    c.cell_contents = 1\n", []string{"1:access to __closure__", "2:access to cell_contents"}},
		{"__defaults__", "f.__defaults__ = (1,)\nf.__kwdefaults__ = {}\n", []string{"1:access to __defaults__", "2:access to __kwdefaults__"}},
		{"__import__ computed", "name = 'x'\nm = __import__(name)\n", []string{"2:import with a computed name"}},
		{"import_module f-string", "import importlib\nimportlib.import_module(f\"{a}\")\n", []string{"2:import with a computed name"}},
		{"import_module aliased", "from importlib import import_module as im\nim('py' + 'test')\n", []string{"2:import with a computed name"}},
		{"getattr import_module", "import importlib\ngetattr(importlib, 'import_module')('x')\n", []string{"2:reference to import_module"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(pyscan.Scan([]pyscan.Source{{Path: "library/views.py", Data: []byte(tt.src)}}))
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Scan(%q) = %q, want %q", tt.src, got, tt.want)
			}
		})
	}
}

func TestScanIgnoresInnocentCode(t *testing.T) {
	tests := []struct{ name, src string }{
		{"comment", "# we test this with pytest and sys.modules\nx = 1\n"},
		{"docstring", "def f():\n    \"\"\"Run pytest; never call os._exit.\"\"\"\n"},
		{"string mentions", "msg = 'pytest is great'\n"},
		{"other attribute", "import os\nos.path.join('a', 'b')\nos.environ.get('X')\n"},
		{"chain tail", "self.os._exit = 1\nx.sys.modules = 2\n"},
		{"a name like a module", "pytest_like = 1\nmy_gc = None\nmy_gc.get_objects()\n"},
		{"relative import", "from . import selectors\nfrom .models import Book\n"},
		{"f-string", "x = f\"pytest\"\n"},
		{"reading __code__", "name = f.__code__.co_name\nsame = f.__code__ == g.__code__\n"},
		{"constant import_module", "import importlib\nm = importlib.import_module('json')\nn = __import__(\"os.path\", fromlist=['join'])\n"},
		{"a method named like one", "def import_module(name):\n    return name\n"},
		{"not python", "import _pytest\n"}, // in a .txt file, below
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "library/views.py"
			if tt.name == "not python" {
				path = "library/notes.txt"
			}
			if got := pyscan.Scan([]pyscan.Source{{Path: path, Data: []byte(tt.src)}}); len(got) != 0 {
				t.Errorf("Scan(%q) = %v, want nothing", tt.src, got)
			}
		})
	}
}

// TestScanCatalog scans what candidates are expected to write: every
// starter's editable files and every solution must be clean.
func TestScanCatalog(t *testing.T) {
	cat, err := exercises.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	scanned := 0
	for _, ex := range cat.Exercises() {
		starter, err := grader.StarterFiles(ex)
		if err != nil {
			t.Fatal(err)
		}
		var editable []grader.File
		for _, f := range starter {
			if ex.IsEditable(f.Path) {
				editable = append(editable, f)
			}
		}
		if got := pyscan.Scan(sources(editable)); len(got) != 0 {
			t.Errorf("%s starter: %v", ex.ID, got)
		}
		scanned += len(editable)
		for _, s := range ex.Solutions {
			files, err := grader.OverlayFiles(ex, "solutions/"+s)
			if err != nil {
				t.Fatal(err)
			}
			scanned += len(files)
			if got := pyscan.Scan(sources(files)); len(got) != 0 {
				t.Errorf("%s solution %s: %v", ex.ID, s, got)
			}
		}
	}
	if scanned < 10 {
		t.Fatalf("scanned only %d files", scanned)
	}
}

func render(fs []pyscan.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%d:%s", f.Line, f.What))
	}
	return out
}

func contains(list []string, what string) bool {
	for _, s := range list {
		if strings.HasSuffix(s, ":"+what) {
			return true
		}
	}
	return false
}

// sources turns an exercise's files into what Scan reads.
func sources(files []grader.File) []pyscan.Source {
	out := make([]pyscan.Source, len(files))
	for i, f := range files {
		out[i] = pyscan.Source{Path: f.Path, Data: f.Data}
	}
	return out
}

func dirFS(dir string) fs.FS { return os.DirFS(dir) }
