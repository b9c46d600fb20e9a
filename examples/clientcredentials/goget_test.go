package main

import (
	"archive/zip"
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoGetDownloadsNoTestTooling publishes this module, as it is on disk,
// to a module proxy in a temporary directory, and builds this example as a
// program of another module that gets the library from that proxy
// (`go get .../client@v0.999.0`, `go build`) with a module cache of its
// own. Neither step may download anything of this module's test tooling:
// not a source zip, not even a go.mod file. (The tooling stays listed as a
// requirement in this module's go.mod, so `go list -m all` in the other
// module names it; it is never fetched.)
func TestGoGetDownloadsNoTestTooling(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program in a module of its own")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not on PATH")
	}
	gitTool, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not on PATH (it lists the module's files)")
	}
	const (
		module  = "github.com/gatehouse-auth/gatehouse"
		version = "v0.999.0"
	)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if gm, err := os.ReadFile(filepath.Join(root, "go.mod")); err != nil || !strings.HasPrefix(string(gm), "module "+module+"\n") {
		t.Fatalf("%s is not the root of %s: %v", root, module, err)
	}
	files := moduleFiles(t, gitTool, root)
	if len(files) == 0 {
		t.Skip("git lists no files here (not a clone)")
	}

	tmp := t.TempDir()
	proxyDir := filepath.Join(tmp, "proxy", filepath.FromSlash(module), "@v")
	writeModuleVersion(t, root, files, proxyDir, module, version)

	// The other module: this example's program, as someone else's.
	consumer := filepath.Join(tmp, "consumer")
	mainSrc, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(consumer, "go.mod"), "module example.com/consumer\n\ngo 1.26\n")
	mustWrite(t, filepath.Join(consumer, "main.go"), string(mainSrc))

	realCache := goEnv(t, goTool, "GOMODCACHE")
	upstream := goEnv(t, goTool, "GOPROXY")
	modCache := filepath.Join(tmp, "modcache")
	env := append(os.Environ(),
		"GOMODCACHE="+modCache,
		"GOPATH="+filepath.Join(tmp, "gopath"),
		// This module from the temporary proxy; every other module from
		// what this machine has already downloaded, else from the proxy
		// it uses.
		"GOPROXY=file://"+filepath.ToSlash(filepath.Join(tmp, "proxy"))+",file://"+filepath.ToSlash(filepath.Join(realCache, "cache", "download"))+","+upstream,
		"GOSUMDB=off", "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local",
		"GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0",
	)
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(goTool, args...)
		cmd.Dir = consumer
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	t.Cleanup(func() { makeWritable(modCache) }) // the go command makes the module cache read-only
	run("get", module+"/client@"+version)
	run("build", "-o", filepath.Join(tmp, "clientcredentials"), ".")

	var fetched []string
	downloads := filepath.Join(modCache, "cache", "download")
	err = filepath.WalkDir(downloads, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".zip") || strings.HasSuffix(p, ".mod")) {
			rel, _ := filepath.Rel(downloads, p)
			fetched = append(fetched, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fetched {
		for _, prefix := range testModules {
			if strings.HasPrefix(f, strings.ToLower(prefix)) {
				t.Errorf("go get and go build of the library downloaded %s (test tooling)", f)
			}
		}
	}
	// So that a renamed module or an empty cache cannot make the check
	// above pass by matching nothing.
	for _, want := range []string{module + "/@v/" + version + ".zip", "golang.org/x/oauth2/@v/"} {
		if !hasPrefix(fetched, want) {
			t.Errorf("nothing under %s was downloaded; the check above would be vacuous (downloaded: %v)", want, fetched)
		}
	}
	sum, err := os.ReadFile(filepath.Join(consumer, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range testModules {
		if bytes.Contains(sum, []byte(prefix)) {
			t.Errorf("the program's go.sum names %s", prefix)
		}
	}
	t.Logf("downloaded %d files: %s", len(fetched), strings.Join(fetched, " "))
}

// moduleFiles lists the files a published version of the module holds:
// what git tracks (as the module proxy would take them from the
// repository), read from the working tree.
func moduleFiles(t *testing.T, gitTool, root string) []string {
	t.Helper()
	cmd := exec.Command(gitTool, "ls-files", "-z")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return nil
	}
	var files []string
	for _, f := range strings.Split(string(out), "\x00") {
		if f == "" {
			continue
		}
		if info, err := os.Lstat(filepath.Join(root, filepath.FromSlash(f))); err == nil && info.Mode().IsRegular() {
			files = append(files, f)
		}
	}
	return files
}

// writeModuleVersion writes version of module, made of files under root,
// into proxyDir (a GOPROXY file:// layout: list, .info, .mod, .zip).
func writeModuleVersion(t *testing.T, root string, files []string, proxyDir, module, version string) {
	t.Helper()
	if err := os.MkdirAll(proxyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(module + "@" + version + "/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(proxyDir, version+".zip"), buf.String())
	mustWrite(t, filepath.Join(proxyDir, version+".mod"), string(goMod))
	mustWrite(t, filepath.Join(proxyDir, version+".info"), `{"Version":"`+version+`","Time":"2026-01-01T00:00:00Z"}`)
	mustWrite(t, filepath.Join(proxyDir, "list"), version+"\n")
}

func goEnv(t *testing.T, goTool, name string) string {
	t.Helper()
	out, err := exec.Command(goTool, "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// makeWritable lets t.TempDir's cleanup remove a module cache, whose
// directories the go command makes read-only.
func makeWritable(dir string) {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
}
