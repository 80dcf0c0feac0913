package deploy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// compose is the part of the Compose specification that compose.yaml uses; decoding
// refuses any other key, so a misspelt one fails here instead of being ignored.
type compose struct {
	Name         string             `yaml:"name"`
	XCommentbot  service            `yaml:"x-commentbot"`
	XTrainEnv    map[string]string  `yaml:"x-train-env"`
	XServeEnv    map[string]string  `yaml:"x-serve-env"`
	XTrainHealth healthcheck        `yaml:"x-train-health"`
	XServeHealth healthcheck        `yaml:"x-serve-health"`
	Services     map[string]service `yaml:"services"`
	Configs      map[string]struct {
		File string `yaml:"file"`
	} `yaml:"configs"`
	Volumes map[string]*struct{} `yaml:"volumes"`
}

type service struct {
	Image string `yaml:"image"`
	Build *struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Configs     []struct {
		Source string `yaml:"source"`
		Target string `yaml:"target"`
	} `yaml:"configs"`
	DependsOn map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Expose          []string     `yaml:"expose"`
	Ports           []string     `yaml:"ports"`
	Volumes         []string     `yaml:"volumes"`
	Healthcheck     *healthcheck `yaml:"healthcheck"`
	Restart         string       `yaml:"restart"`
	StopGracePeriod string       `yaml:"stop_grace_period"`
}

type healthcheck struct {
	Test        []string `yaml:"test"`
	Interval    string   `yaml:"interval"`
	Timeout     string   `yaml:"timeout"`
	Retries     int      `yaml:"retries"`
	StartPeriod string   `yaml:"start_period"`
}

func decodeCompose(r io.Reader) (compose, error) {
	var c compose
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	err := dec.Decode(&c)
	return c, err
}

// TestComposeDecoderRefuses: the decoder compose.yaml passes refuses a misspelt key.
func TestComposeDecoderRefuses(t *testing.T) {
	if _, err := decodeCompose(strings.NewReader("services:\n  a:\n    image: x\n    healtcheck: {}\n")); err == nil {
		t.Error("a misspelt service key decoded without an error")
	}
}

// TestCompose decodes compose.yaml strictly and checks it against the program and
// haproxy.cfg: roles, environment, health checks, the load balancer's upstreams.
func TestCompose(t *testing.T) {
	f, err := os.Open("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := decodeCompose(f)
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	cfgText := composeConfig(t, c)
	cfg, p := fleetConfig(t, "commentbot.yaml", cfgText)
	k8sCfg, _ := fleetConfig(t, "kubernetes ConfigMap", kubernetesConfig(t))
	if !reflect.DeepEqual(cfg, k8sCfg) {
		t.Errorf("commentbot.yaml and the Kubernetes ConfigMap's commentbot.yaml configure different things")
	}

	byRole := map[string][]string{}
	for name, s := range c.Services {
		for dep := range s.DependsOn {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("service %s depends on %s, which is not a service", name, dep)
			}
		}
		checkNamedVolumes(t, c, name, s)
		if !isCommentbot(s) {
			continue
		}
		if len(s.Command) != 3 || s.Command[0] != "run" || s.Command[1] != "--role" || !roles[s.Command[2]] {
			t.Errorf("service %s: command %q, want run --role <%v>", name, s.Command, keys(roles))
			continue
		}
		role := s.Command[2]
		byRole[role] = append(byRole[role], name)
		checkComposeService(t, c, name, role, s, p)
	}
	if len(byRole["train"]) != 2 || len(byRole["serve"]) != 2 {
		t.Errorf("roles: %v; want two trainers and two serving replicas", byRole)
	}
	checkLoadBalancer(t, c, byRole["serve"], p)
}

func isCommentbot(s service) bool {
	return s.Build != nil || strings.HasPrefix(s.Image, "commentbot:")
}

// composeConfig returns the text of the one config file the services mount.
func composeConfig(t *testing.T, c compose) string {
	t.Helper()
	if len(c.Configs) != 1 {
		t.Fatalf("compose.yaml: %d configs, want the one commentbot.yaml", len(c.Configs))
	}
	for _, cf := range c.Configs {
		return readFile(t, cf.File)
	}
	return ""
}

// kubernetesConfig returns the Kubernetes ConfigMap's config file.
func kubernetesConfig(t *testing.T) string {
	t.Helper()
	c := loadCluster(t)
	if len(c.configMaps) != 1 || c.configMaps[0].Data["commentbot.yaml"] == "" {
		t.Fatal("want one ConfigMap with commentbot.yaml")
	}
	return c.configMaps[0].Data["commentbot.yaml"]
}

// checkNamedVolumes: a volume that is not a path is declared at the top level.
func checkNamedVolumes(t *testing.T, c compose, name string, s service) {
	t.Helper()
	for _, v := range s.Volumes {
		src, _, _ := strings.Cut(v, ":")
		if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
			if _, err := os.Stat(src); err != nil {
				t.Errorf("service %s mounts %s: %v", name, src, err)
			}
			continue
		}
		if _, ok := c.Volumes[src]; !ok {
			t.Errorf("service %s mounts volume %s, not declared under volumes:", name, src)
		}
	}
}

// interpolated matches a value taken from the host's environment: ${NAME...}.
var interpolated = regexp.MustCompile(`^\$\{[A-Z_]+(:?[-?].*)?\}$`)

func checkComposeService(t *testing.T, c compose, name, role string, s service, p ports) {
	t.Helper()
	if s.Build == nil || s.Build.Context != ".." || s.Build.Dockerfile != "Dockerfile" {
		t.Errorf("service %s: want the image built from the repo's Dockerfile", name)
	}
	if len(s.Configs) != 1 || s.Environment["COMMENTBOT_CONFIG"] != s.Configs[0].Target {
		t.Errorf("service %s: COMMENTBOT_CONFIG=%q is not the mounted config %v", name, s.Environment["COMMENTBOT_CONFIG"], s.Configs)
	} else if _, ok := c.Configs[s.Configs[0].Source]; !ok {
		t.Errorf("service %s: config %s is not declared", name, s.Configs[0].Source)
	}
	for k, v := range s.Environment {
		_, isSecret := secretKeys[k]
		switch {
		case k == "COMMENTBOT_CONFIG":
		case k == "COMMENTBOT_STORE_URL":
			u, err := url.Parse(v)
			if err != nil || u.Scheme != "postgres" || u.User == nil {
				t.Errorf("service %s: store URL %q, want postgres://user@host/db", name, v)
				break
			}
			if _, has := u.User.Password(); has {
				t.Errorf("service %s: the store URL holds a password; use PGPASSWORD", name)
			}
			if _, ok := c.Services[u.Hostname()]; !ok {
				t.Errorf("service %s: store host %s is not a service", name, u.Hostname())
			}
			if dep, ok := s.DependsOn[u.Hostname()]; !ok || dep.Condition != "service_healthy" {
				t.Errorf("service %s: want it to wait for %s to be healthy", name, u.Hostname())
			}
		case k == "PGPASSWORD" || isSecret:
			if !interpolated.MatchString(v) {
				t.Errorf("service %s: %s is written in the file; take it from the environment (${%s})", name, k, k)
			}
		default:
			t.Errorf("service %s: unexpected environment variable %s", name, k)
		}
		if role == "serve" && strings.HasPrefix(k, "REDDIT_") {
			t.Errorf("service %s: serving replicas never ingest; %s does not belong there", name, k)
		}
	}
	for _, k := range append(needs[role], "PGPASSWORD") {
		if _, ok := s.Environment[k]; !ok {
			t.Errorf("service %s: role %s needs %s", name, role, k)
		}
	}
	want := map[string]string{"serve": readyPath, "train": livePath}[role]
	checkHealthcheck(t, name, s.Healthcheck, want, p.metrics)
}

// checkHealthcheck: the image's binary probes the wanted path on the health port.
func checkHealthcheck(t *testing.T, name string, h *healthcheck, wantPath string, metrics int) {
	t.Helper()
	if h == nil || len(h.Test) != 4 || h.Test[0] != "CMD" || h.Test[1] != binary || h.Test[2] != "probe" {
		t.Errorf("service %s: healthcheck %v, want [CMD %s probe http://127.0.0.1:%d%s]", name, h, binary, metrics, wantPath)
		return
	}
	u, err := url.Parse(h.Test[3])
	if err != nil || u.Hostname() != "127.0.0.1" || u.Port() != strconv.Itoa(metrics) || u.Path != wantPath {
		t.Errorf("service %s: healthcheck probes %q, want http://127.0.0.1:%d%s", name, h.Test[3], metrics, wantPath)
	}
}

// haproxy is what the tests read of haproxy.cfg.
type haproxy struct {
	bind     int               // the frontend's port
	check    string            // option httpchk's request
	checkArg string            // default-server's options
	servers  map[string]string // backend server name → address
}

func parseHAProxy(t *testing.T, text string) haproxy {
	t.Helper()
	h := haproxy{servers: map[string]string{}}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if !strings.HasPrefix(sc.Text(), " ") {
			section = strings.Join(f, " ")
			continue
		}
		switch {
		case section == "frontend interactions" && f[0] == "bind":
			_, ps, _ := net.SplitHostPort(f[1])
			h.bind, _ = strconv.Atoi(ps)
		case section == "backend serve" && f[0] == "option" && len(f) > 1 && f[1] == "httpchk":
			h.check = strings.Join(f[2:], " ")
		case section == "backend serve" && f[0] == "default-server":
			h.checkArg = strings.Join(f[1:], " ")
		case section == "backend serve" && f[0] == "server" && len(f) >= 3:
			h.servers[f[1]] = f[2]
		}
	}
	return h
}

// checkLoadBalancer: HAProxy publishes its frontend, sends interactions to exactly the
// serving services on the interactions port, and checks /readyz on the health port.
func checkLoadBalancer(t *testing.T, c compose, serve []string, p ports) {
	t.Helper()
	lb, ok := c.Services["lb"]
	if !ok || !strings.HasPrefix(lb.Image, "haproxy:") {
		t.Fatalf("want a service lb running HAProxy, got %+v", lb)
	}
	if len(lb.Volumes) != 1 || !strings.HasPrefix(lb.Volumes[0], "./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg") {
		t.Errorf("lb mounts %v, want ./haproxy.cfg at the image's config path", lb.Volumes)
	}
	h := parseHAProxy(t, readFile(t, "haproxy.cfg"))
	if len(lb.Ports) != 1 || !strings.HasSuffix(lb.Ports[0], ":"+strconv.Itoa(h.bind)) {
		t.Errorf("lb publishes %v; the frontend binds port %d", lb.Ports, h.bind)
	}
	var names []string
	for name, addr := range h.servers {
		names = append(names, name)
		host, port, _ := net.SplitHostPort(addr)
		if host != name || port != strconv.Itoa(p.http) {
			t.Errorf("haproxy server %s at %s, want the service %s on the interactions port %d", name, addr, name, p.http)
		}
		if _, ok := lb.DependsOn[name]; !ok {
			t.Errorf("lb does not depend on %s", name)
		}
	}
	if !sameSet(names, serve) {
		t.Errorf("haproxy's servers %v, compose's serving services %v", names, serve)
	}
	if h.check != "GET "+readyPath || !strings.Contains(h.checkArg, "check port "+strconv.Itoa(p.metrics)) {
		t.Errorf("haproxy checks %q with %q, want GET %s on port %d", h.check, h.checkArg, readyPath, p.metrics)
	}
}

func sameSet(a, b []string) bool {
	set := map[string]int{}
	for _, s := range a {
		set[s]++
	}
	for _, s := range b {
		set[s]--
	}
	for _, n := range set {
		if n != 0 {
			return false
		}
	}
	return len(a) > 0
}

// TestHAProxyConfigValid runs HAProxy's own check of haproxy.cfg. Warnings are refused
// except that the replicas' names do not resolve outside Compose's network.
func TestHAProxyConfigValid(t *testing.T) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("haproxy is not installed (apt-get install haproxy; .ci/run does); CI=true requires this check")
		}
		t.Skip("haproxy is not installed (apt-get install haproxy): haproxy.cfg's own check skipped")
	}
	out, err := exec.Command(bin, "-c", "-f", "haproxy.cfg").CombinedOutput()
	if err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	for _, line := range bytes.Split(out, []byte("\n")) {
		if bytes.Contains(line, []byte("[WARNING]")) && !bytes.Contains(line, []byte("could not resolve address")) {
			t.Errorf("haproxy -c warns: %s", line)
		}
	}
	if !bytes.Contains(out, []byte("Configuration file is valid")) {
		t.Errorf("haproxy -c did not say the file is valid:\n%s", out)
	}
}
