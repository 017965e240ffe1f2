package similar

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

const original = `from django.db import transaction
from django.db.models import F

from .models import Product


def take(product_id, quantity):
    """Take quantity units of the product, or raise."""
    with transaction.atomic():
        n = Product.objects.filter(pk=product_id, stock__gte=quantity).update(stock=F("stock") - quantity)
        if not n:
            raise OutOfStock(product_id)  # nothing kept
    return n


class OutOfStock(Exception):
    def __init__(self, product_id):
        super().__init__(product_id)
        self.product_id = product_id

    def describe(self):
        return "out of stock: %d" % self.product_id
`

// disguised is original renamed (an import alias too), reordered (the
// class first, its methods swapped), recommented and reformatted by hand.
const disguised = `from django.db import transaction as tx
from django.db.models import F
from .models import Product

class NoStock(Exception):
  # what the caller sees
  def text(me):
    return 'out of stock: %d' % me.pid
  def __init__(me, pid):
    super().__init__(pid)
    me.pid = pid

def grab(pid, qty):
  with tx.atomic():
    changed = Product.objects.filter(
        pk=pid,
        stock__gte=qty,
    ).update(stock=F('stock') - qty)
    if not changed:
      raise NoStock(pid)
  return changed
`

func hashes(fps []Fingerprint) []uint64 {
	var out []uint64
	for _, f := range fps {
		out = append(out, f.Hash)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestDisguiseKeepsEveryFingerprint(t *testing.T) {
	a := Fingerprints([]Source{{Path: "shop/services.py", Data: []byte(original)}}, nil)
	b := Fingerprints([]Source{{Path: "shop/services.py", Data: []byte(disguised)}}, nil)
	if len(a) < 5 {
		t.Fatalf("only %d fingerprints of the original", len(a))
	}
	if !reflect.DeepEqual(hashes(a), hashes(b)) {
		t.Errorf("fingerprints differ:\n%v\n%v", hashes(a), hashes(b))
	}
	m := Compare(b, "original", a)
	if m.Score != 1 || !m.Flagged() {
		t.Errorf("match %+v, want score 1, flagged", m)
	}
	// The regions point at the code on each side: grab is lines 13-21 of
	// the disguised file, take lines 7-13 of the original.
	if !slices.Contains(m.Other, Region{Path: "shop/services.py", Start: 7, End: 13}) {
		t.Errorf("other side's regions %+v, want take at 7-13", m.Other)
	}
	if !slices.Contains(m.Query, Region{Path: "shop/services.py", Start: 13, End: 21}) {
		t.Errorf("query side's regions %+v, want grab at 13-21", m.Query)
	}
}

func TestStarterIsSubtracted(t *testing.T) {
	files := []Source{{Path: "shop/services.py", Data: []byte(original)}}
	if fps := Fingerprints(files, files); len(fps) != 0 {
		t.Errorf("the starter itself has %d fingerprints of its own, want 0", len(fps))
	}
	// The starter's code renamed is still the starter's.
	if fps := Fingerprints([]Source{{Path: "shop/services.py", Data: []byte(disguised)}}, files); len(fps) != 0 {
		t.Errorf("the starter disguised has %d fingerprints of its own, want 0", len(fps))
	}
	// A new function is the candidate's own.
	extra := original + "\n\ndef restock(product_id, quantity):\n    Product.objects.filter(pk=product_id).update(stock=F(\"stock\") + quantity)\n"
	fps := Fingerprints([]Source{{Path: "shop/services.py", Data: []byte(extra)}}, files)
	if len(fps) == 0 {
		t.Fatal("a new function has no fingerprints")
	}
	for _, f := range fps {
		if f.Start < 25 {
			t.Errorf("fingerprint %+v is in the starter's code (the new function is at 25-26)", f)
		}
	}
}

func TestUnrelatedCodeScoresLow(t *testing.T) {
	other := `from rest_framework import serializers

from .models import Note


class NoteSerializer(serializers.ModelSerializer):
    owner = serializers.ReadOnlyField(source="owner.username")

    class Meta:
        model = Note
        fields = ["id", "title", "body", "owner"]
        read_only_fields = ["owner"]
`
	a := Fingerprints([]Source{{Path: "a.py", Data: []byte(original)}}, nil)
	b := Fingerprints([]Source{{Path: "b.py", Data: []byte(other)}}, nil)
	if m := Compare(a, "b", b); m.Flagged() || m.Shared > 0 {
		t.Errorf("unrelated files match: %+v", m)
	}
}

// TestWinnowGuarantee checks winnowing's promise: any run of Window
// consecutive hashes two sequences share has a position both select.
func TestWinnowGuarantee(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		shared := make([]uint64, Window+r.IntN(8))
		for i := range shared {
			shared[i] = r.Uint64()
		}
		seq := func() []uint64 {
			var s []uint64
			for range r.IntN(20) {
				s = append(s, r.Uint64())
			}
			return append(s, shared...)
		}
		a, b := seq(), seq()
		pick := func(s []uint64) map[uint64]bool {
			out := map[uint64]bool{}
			for _, i := range winnow(s) {
				out[s[i]] = true
			}
			return out
		}
		pa, pb := pick(a), pick(b)
		found := false
		for _, h := range shared {
			found = found || (pa[h] && pb[h])
		}
		if !found {
			t.Fatalf("trial %d: no shared selection for a shared run of %d", trial, len(shared))
		}
	}
}

func TestIndexQueriesOnlyWhatIsShared(t *testing.T) {
	a := Fingerprints([]Source{{Path: "a.py", Data: []byte(original)}}, nil)
	b := Fingerprints([]Source{{Path: "b.py", Data: []byte(disguised)}}, nil)
	x := NewIndex()
	x.Put("a", a)
	x.Put("empty", nil)
	got := Rank(b, x.Query(b), "b")
	if len(got) != 1 || got[0].Doc != "a" || !reflect.DeepEqual(got[0], Compare(b, "a", a)) {
		t.Errorf("Rank through the index = %+v, want the one match Compare gives", got)
	}
	x.Put("b", b)
	if got := Rank(b, x.Query(b), "b"); len(got) != 1 {
		t.Errorf("the query's own document is not left out: %+v", got)
	}
	x.Delete("a")
	if got := x.Query(b); len(got) != 1 || got[0].Doc != "b" {
		t.Errorf("after Delete: %+v", got)
	}
}
