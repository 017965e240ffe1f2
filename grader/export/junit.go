package export

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"

	"github.com/djgrade/djgrade/grader"
)

// JUnit XML, as CI systems read it (Jenkins, GitLab, GitHub Actions'
// reporters), valid against the common schema, Jenkins' junit-10.xsd: one
// <testsuites> holding one <testsuite> for the submission, with one
// <testcase> per test of the export view, public tests and hidden checks
// alike. An outcome maps to the child a testcase gets:
//
//	passed   none
//	failed   <failure type="failed">
//	error    <error type="error">
//	missing  <error type="missing"> (the test did not report)
//	skipped  <skipped>
//
// and any other outcome to <error> with the outcome as its type. That
// schema allows <properties> on a suite only, so the points are there, one
// property "points:<test name>" = "points/max_points" per testcase, beside
// the submission's score, verdict and identity; each testcase's
// <system-out> says its points and category in words, which CI pages show.
// Messages and times are what the export view holds: it holds no message
// and no duration, so the failure elements carry fixed words and every
// time is 0.

// JUnitTestsuites is the root element.
type JUnitTestsuites struct {
	XMLName  xml.Name         `xml:"testsuites"`
	Name     string           `xml:"name,attr"`
	Tests    int              `xml:"tests,attr"`
	Failures int              `xml:"failures,attr"`
	Errors   int              `xml:"errors,attr"`
	Time     string           `xml:"time,attr"`
	Suites   []JUnitTestsuite `xml:"testsuite"`
}

// JUnitTestsuite is one submission's tests.
type JUnitTestsuite struct {
	Name       string          `xml:"name,attr"`
	ID         int             `xml:"id,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Hostname   string          `xml:"hostname,attr"`
	Properties []JUnitProperty `xml:"properties>property"`
	Cases      []JUnitTestcase `xml:"testcase"`
}

// JUnitProperty is a name and a value.
type JUnitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// JUnitTestcase is one test or hidden check.
type JUnitTestcase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *JUnitProblem `xml:"failure,omitempty"`
	Error     *JUnitProblem `xml:"error,omitempty"`
	Skipped   *JUnitProblem `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// JUnitProblem is a failure, an error or a skip: a message, a type and the
// details as text.
type JUnitProblem struct {
	Message string `xml:"message,attr,omitempty"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// JUnit is the row's result as JUnit XML. The row must have a result
// (Row.Result not nil); the caller refuses rows that are not done.
func JUnit(r Row) JUnitTestsuites {
	suite := JUnitTestsuite{
		Name:     "djgrade." + r.Exercise,
		Hostname: "djgrade",
		Time:     seconds(0),
		Properties: []JUnitProperty{
			{"submission", r.Submission}, {"exercise", r.Exercise}, {"candidate", r.Candidate},
		},
	}
	if r.Assignment != "" {
		suite.Properties = append(suite.Properties, JUnitProperty{"assignment", r.Assignment})
	}
	if !r.CreatedAt.IsZero() {
		// The schema's timestamp has no time zone: UTC, said so here.
		suite.Timestamp = r.CreatedAt.UTC().Format("2006-01-02T15:04:05")
	}
	var total float64
	var points []JUnitProperty
	if v := r.Result; v != nil {
		suite.Properties = append(suite.Properties,
			JUnitProperty{"verdict", string(v.Verdict)}, JUnitProperty{"reason", v.Reason},
			JUnitProperty{"score", strconv.Itoa(v.Score)}, JUnitProperty{"max_score", strconv.Itoa(v.MaxScore)},
			JUnitProperty{"late", strconv.FormatBool(r.Late)})
		for _, c := range v.Categories {
			suite.Properties = append(suite.Properties, JUnitProperty{"category:" + c.Name, fmt.Sprintf("%d/%d", c.Score, c.MaxScore)})
		}
		for _, t := range v.Tests {
			tc := JUnitTestcase{
				Name: t.Name, Classname: classname(r.Exercise, t), Time: seconds(t.Duration),
				SystemOut: fmt.Sprintf("%s: %s, %d of %d points (%s)", kind(t), t.Outcome, t.Points, t.MaxPoints, t.Category),
			}
			points = append(points, JUnitProperty{"points:" + t.Name, fmt.Sprintf("%d/%d", t.Points, t.MaxPoints)})
			total += t.Duration
			switch t.Outcome {
			case grader.OutcomePassed:
			case grader.OutcomeFailed:
				tc.Failure = &JUnitProblem{Message: words(t, "the check failed"), Type: t.Outcome, Text: t.Message}
				suite.Failures++
			case grader.OutcomeSkipped:
				tc.Skipped = &JUnitProblem{Message: words(t, "the check was skipped"), Text: t.Message}
				suite.Skipped++
			case grader.OutcomeMissing:
				tc.Error = &JUnitProblem{Message: words(t, "the test did not report"), Type: t.Outcome, Text: t.Message}
				suite.Errors++
			default:
				tc.Error = &JUnitProblem{Message: words(t, "the check errored"), Type: t.Outcome, Text: t.Message}
				suite.Errors++
			}
			suite.Cases = append(suite.Cases, tc)
		}
	}
	suite.Properties = append(suite.Properties, points...)
	suite.Tests = len(suite.Cases)
	suite.Time = seconds(total)
	// The root has no skipped attribute in the schema: the suite's says it.
	return JUnitTestsuites{
		Name: "djgrade", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Time: suite.Time, Suites: []JUnitTestsuite{suite},
	}
}

// classname groups a row's testcases the way CI reporters show them:
// exercise, then public or hidden, then category.
func classname(exercise string, t grader.TestResult) string {
	cn := "djgrade." + exercise + "." + kind(t)
	if t.Category != "" {
		cn += "." + t.Category
	}
	return cn
}

// kind is "hidden" for a hidden check, "public" for a public test.
func kind(t grader.TestResult) string {
	if t.Hidden {
		return "hidden"
	}
	return "public"
}

// words is the fixed message of an outcome, with the points at stake.
func words(t grader.TestResult, what string) string {
	return fmt.Sprintf("%s (%d of %d points)", what, t.Points, t.MaxPoints)
}

// seconds writes a duration in seconds as JUnit's time attribute holds it.
func seconds(s float64) string {
	if s < 0 {
		s = 0
	}
	return strconv.FormatFloat(s, 'f', 3, 64)
}

// WriteJUnit writes the row's JUnit XML with its XML declaration.
func WriteJUnit(w io.Writer, r Row) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(JUnit(r)); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
