package api

import (
	"bytes"
	"compress/gzip"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/archive"
)

// sendTarGz answers with files as a gzip'd tar to be saved as name.
func sendTarGz(c echo.Context, name string, files []grader.File) error {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	if err := archive.WriteTar(gz, files); err != nil {
		return grader.Wrap(err, grader.EINTERNAL, "cannot pack the files")
	}
	if err := gz.Close(); err != nil {
		return grader.Wrap(err, grader.EINTERNAL, "cannot pack the files")
	}
	return sendFile(c, name, "application/gzip", buf.Bytes())
}

// sendZip answers with files as a zip archive to be saved as name.
func sendZip(c echo.Context, name string, files []grader.File) error {
	var buf bytes.Buffer
	if err := archive.WriteZip(&buf, files); err != nil {
		return grader.Wrap(err, grader.EINTERNAL, "cannot pack the files")
	}
	return sendFile(c, name, "application/zip", buf.Bytes())
}

func sendFile(c echo.Context, name, ctype string, data []byte) error {
	c.Response().Header().Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	return c.Blob(http.StatusOK, ctype, data)
}
