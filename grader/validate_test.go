package grader

import (
	"reflect"
	"testing"
)

func TestLostAndVaried(t *testing.T) {
	res := &Result{Tests: []TestResult{
		{Name: "public", Hidden: false, Points: 0, MaxPoints: 0, Outcome: "failed"},
		{Name: "a", Hidden: true, Points: 2, MaxPoints: 2},
		{Name: "b", Hidden: true, Points: 1, MaxPoints: 2},
	}}
	if got := lostChecks(res); !reflect.DeepEqual(got, []string{"b 1/2"}) {
		t.Fatalf("lostChecks = %v", got)
	}
	if got := lostChecks(&Result{}); !reflect.DeepEqual(got, []string{"none"}) {
		t.Fatalf("lostChecks of a full score = %v", got)
	}
	got := varied([][]string{{"b 1/2"}, {"b 1/2", "c 0/1"}, {"b 1/2"}})
	if want := []string{"c 0/1 (in 1 of 3 runs)"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("varied = %v, want %v", got, want)
	}
}
