package deploy

import (
	"fmt"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// newObject returns an empty object of the type for apiVersion and kind, nil for a
// kind the manifests are not expected to hold.
func newObject(apiVersion, kind string) any {
	switch apiVersion + " " + kind {
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}
	case "v1 Service":
		return &corev1.Service{}
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}
	}
	return nil
}

// decodeManifest decodes one YAML document strictly: unknown or duplicate fields are
// errors.
func decodeManifest(doc []byte) (any, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return nil, err
	}
	obj := newObject(tm.APIVersion, tm.Kind)
	if obj == nil {
		return nil, fmt.Errorf("unexpected apiVersion %q kind %q", tm.APIVersion, tm.Kind)
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// documents splits a multi-document YAML file on its "---" lines, dropping documents
// that hold only comments.
func documents(text string) [][]byte {
	var docs [][]byte
	for _, d := range strings.Split("\n"+text, "\n---\n") {
		for _, line := range strings.Split(d, "\n") {
			if s := strings.TrimSpace(line); s != "" && !strings.HasPrefix(s, "#") {
				docs = append(docs, []byte(d))
				break
			}
		}
	}
	return docs
}

// cluster is every object of kubernetes/*.yaml, by type.
type cluster struct {
	deployments []*appsv1.Deployment
	services    []*corev1.Service
	configMaps  []*corev1.ConfigMap
	hpas        []*autoscalingv2.HorizontalPodAutoscaler
	pdbs        []*policyv1.PodDisruptionBudget
}

func loadCluster(t *testing.T) cluster {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in kubernetes/ (%v)", err)
	}
	var c cluster
	seen := map[string]string{}
	for _, f := range files {
		docs := documents(readFile(t, f))
		if len(docs) == 0 {
			t.Errorf("%s holds no object", f)
		}
		for i, doc := range docs {
			obj, err := decodeManifest(doc)
			if err != nil {
				t.Errorf("%s, document %d: %v", f, i+1, err)
				continue
			}
			var meta metav1.ObjectMeta
			switch o := obj.(type) {
			case *appsv1.Deployment:
				c.deployments, meta = append(c.deployments, o), o.ObjectMeta
			case *corev1.Service:
				c.services, meta = append(c.services, o), o.ObjectMeta
			case *corev1.ConfigMap:
				c.configMaps, meta = append(c.configMaps, o), o.ObjectMeta
			case *autoscalingv2.HorizontalPodAutoscaler:
				c.hpas, meta = append(c.hpas, o), o.ObjectMeta
			case *policyv1.PodDisruptionBudget:
				c.pdbs, meta = append(c.pdbs, o), o.ObjectMeta
			}
			key := fmt.Sprintf("%T %s", obj, meta.Name)
			if meta.Name == "" || seen[key] != "" {
				t.Errorf("%s, document %d: %s: a name is required and unique per kind (also in %s)", f, i+1, key, seen[key])
			}
			seen[key] = f
		}
	}
	return c
}

// TestStrictDecodingRefuses: the decoder the manifests pass refuses a misspelt field,
// a duplicated one, and a kind nobody expects.
func TestStrictDecodingRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field":   "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec:\n  selectr: {a: b}\n",
		"duplicate field": "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nmetadata: {name: y}\n",
		"unexpected kind": "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n",
		"wrong type":      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: two}\n",
	} {
		if _, err := decodeManifest([]byte(doc)); err == nil {
			t.Errorf("%s: decoded without an error", name)
		}
	}
}

// TestKubernetesManifests decodes every manifest strictly and checks them against each
// other and the program: roles, ports, probes, Secret keys, the config file.
func TestKubernetesManifests(t *testing.T) {
	c := loadCluster(t)
	kinds := map[string]int{"Deployment": len(c.deployments), "Service": len(c.services),
		"ConfigMap": len(c.configMaps), "HorizontalPodAutoscaler": len(c.hpas), "PodDisruptionBudget": len(c.pdbs)}
	want := map[string]int{"Deployment": 2, "Service": 2, "ConfigMap": 1, "HorizontalPodAutoscaler": 1, "PodDisruptionBudget": 2}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("objects by kind: %v, want %v", kinds, want)
	}
	byRole := map[string]*appsv1.Deployment{}
	for _, d := range c.deployments {
		role := checkDeployment(t, c, d)
		if byRole[role] != nil {
			t.Errorf("two Deployments run role %s", role)
		}
		byRole[role] = d
	}
	if byRole["serve"] == nil || byRole["train"] == nil {
		t.Fatalf("want a Deployment for roles serve and train, got %v", keys(byRole))
	}
	if r := byRole["train"].Spec.Replicas; r == nil || *r != 2 {
		t.Errorf("trainers: replicas %v, want 2 (one active, one standing by)", r)
	}
	checkServices(t, c)
	checkAutoscaler(t, c, byRole["serve"])
	checkDisruptionBudgets(t, c)
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// checkDeployment checks one Deployment and returns its role.
func checkDeployment(t *testing.T, c cluster, d *appsv1.Deployment) string {
	t.Helper()
	name := "Deployment " + d.Name
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || sel.Empty() || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("%s: selector %v does not select its own pods %v (%v)", name, d.Spec.Selector, d.Spec.Template.Labels, err)
	}
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", name, len(pod.Containers))
	}
	ctr := pod.Containers[0]
	if img, _, _ := strings.Cut(path.Base(ctr.Image), ":"); img != "commentbot" {
		t.Errorf("%s: image %q, want the commentbot image", name, ctr.Image)
	}
	if len(ctr.Command) != 0 {
		t.Errorf("%s: command %v replaces the image's entrypoint; use args", name, ctr.Command)
	}
	if len(ctr.Args) != 3 || ctr.Args[0] != "run" || ctr.Args[1] != "--role" || !roles[ctr.Args[2]] {
		t.Fatalf("%s: args %q, want run --role <%v>", name, ctr.Args, keys(roles))
	}
	role := ctr.Args[2]
	if got := d.Spec.Template.Labels["app.kubernetes.io/component"]; got != role {
		t.Errorf("%s: component label %q, role %q", name, got, role)
	}
	cfg := checkConfigMount(t, c, name, pod, ctr)
	_, p := fleetConfig(t, name+" config", cfg)
	named := map[string]int32{}
	for _, cp := range ctr.Ports {
		named[cp.Name] = cp.ContainerPort
	}
	if named["metrics"] != int32(p.metrics) {
		t.Errorf("%s: container port metrics = %d, config's metrics.listen port %d", name, named["metrics"], p.metrics)
	}
	if role == "serve" && named["http"] != int32(p.http) {
		t.Errorf("%s: container port http = %d, config's bot.http_listen port %d", name, named["http"], p.http)
	}
	checkProbe(t, name+" liveness", ctr.LivenessProbe, livePath, named, p.metrics)
	if role == "serve" || ctr.ReadinessProbe != nil {
		checkProbe(t, name+" readiness", ctr.ReadinessProbe, readyPath, named, p.metrics)
	}
	checkEnv(t, name, role, ctr.Env)
	checkShutdown(t, name, pod, ctr)
	if role == "serve" && ctr.Resources.Requests.Cpu().IsZero() {
		t.Errorf("%s: no CPU request: the autoscaler's utilization target needs one", name)
	}
	return role
}

// checkConfigMount: COMMENTBOT_CONFIG names a file of a ConfigMap mounted in the pod;
// it returns that file's text.
func checkConfigMount(t *testing.T, c cluster, name string, pod corev1.PodSpec, ctr corev1.Container) string {
	t.Helper()
	var file string
	for _, e := range ctr.Env {
		if e.Name == "COMMENTBOT_CONFIG" {
			file = e.Value
		}
	}
	for _, m := range ctr.VolumeMounts {
		if path.Dir(file) != m.MountPath {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name != m.Name || v.ConfigMap == nil {
				continue
			}
			for _, cm := range c.configMaps {
				if cm.Name == v.ConfigMap.Name {
					if text, ok := cm.Data[path.Base(file)]; ok {
						return text
					}
				}
			}
		}
	}
	t.Fatalf("%s: COMMENTBOT_CONFIG=%q is not a file of a ConfigMap mounted in the pod", name, file)
	return ""
}

func checkProbe(t *testing.T, name string, p *corev1.Probe, wantPath string, named map[string]int32, metrics int) {
	t.Helper()
	if p == nil || p.HTTPGet == nil {
		t.Errorf("%s: want an HTTP GET probe of %s", name, wantPath)
		return
	}
	port := p.HTTPGet.Port.IntVal
	if p.HTTPGet.Port.StrVal != "" {
		port = named[p.HTTPGet.Port.StrVal]
	}
	if p.HTTPGet.Path != wantPath || port != int32(metrics) {
		t.Errorf("%s: probes %s on port %v (%d), want %s on the health port %d", name, p.HTTPGet.Path, p.HTTPGet.Port.String(), port, wantPath, metrics)
	}
}

// checkEnv: secrets come from the Secret, under their own names, documented; each role
// gets what it needs, and serving replicas no Reddit credentials.
func checkEnv(t *testing.T, name, role string, env []corev1.EnvVar) {
	t.Helper()
	got := map[string]bool{}
	for _, e := range env {
		got[e.Name] = true
		_, isSecret := secretKeys[e.Name]
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			if ref.Name != secretName || ref.Key != e.Name || !isSecret {
				t.Errorf("%s: %s from Secret %s key %s; want Secret %s, key %s, one of the documented keys", name, e.Name, ref.Name, ref.Key, secretName, e.Name)
			}
			if optional := ref.Optional != nil && *ref.Optional; optional == secretKeys[e.Name] {
				t.Errorf("%s: %s optional=%v, want %v", name, e.Name, optional, !secretKeys[e.Name])
			}
		case isSecret:
			t.Errorf("%s: %s is set in the manifest; secrets come from the Secret", name, e.Name)
		case e.Name != "COMMENTBOT_CONFIG":
			t.Errorf("%s: unexpected environment variable %s", name, e.Name)
		}
		if role == "serve" && strings.HasPrefix(e.Name, "REDDIT_") {
			t.Errorf("%s: serving replicas never ingest; %s does not belong there", name, e.Name)
		}
	}
	for _, k := range needs[role] {
		if !got[k] {
			t.Errorf("%s: role %s needs %s", name, role, k)
		}
	}
}

// checkShutdown: the grace period covers the preStop pause and run's shutdown budget.
func checkShutdown(t *testing.T, name string, pod corev1.PodSpec, ctr corev1.Container) {
	t.Helper()
	var pause int64
	if ctr.Lifecycle != nil && ctr.Lifecycle.PreStop != nil && ctr.Lifecycle.PreStop.Sleep != nil {
		pause = ctr.Lifecycle.PreStop.Sleep.Seconds
	}
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if g := pod.TerminationGracePeriodSeconds; g != nil {
		grace = *g
	}
	if grace < pause+shutdownBudget {
		t.Errorf("%s: terminationGracePeriodSeconds %d, want at least %d (preStop %d s + shutdown %d s)", name, grace, pause+shutdownBudget, pause, shutdownBudget)
	}
}

// selected returns the Deployments whose pods the selector picks.
func selected(c cluster, sel labels.Selector) []*appsv1.Deployment {
	var ds []*appsv1.Deployment
	for _, d := range c.deployments {
		if sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			ds = append(ds, d)
		}
	}
	return ds
}

// checkServices: each Service selects pods, and its target ports are named ports of
// all of them; the interactions Service reaches the serving replicas only.
func checkServices(t *testing.T, c cluster) {
	t.Helper()
	for _, s := range c.services {
		ds := selected(c, labels.SelectorFromSet(s.Spec.Selector))
		if len(s.Spec.Selector) == 0 || len(ds) == 0 {
			t.Errorf("Service %s selects no Deployment's pods", s.Name)
		}
		for _, p := range s.Spec.Ports {
			for _, d := range ds {
				if !hasPort(d, p.TargetPort.StrVal) {
					t.Errorf("Service %s port %s: target %q is not a named port of Deployment %s", s.Name, p.Name, p.TargetPort.String(), d.Name)
				}
			}
			if p.Name == "http" {
				for _, d := range ds {
					if d.Spec.Template.Spec.Containers[0].Args[2] != "serve" {
						t.Errorf("Service %s sends interactions to Deployment %s, not a serving one", s.Name, d.Name)
					}
				}
			}
		}
	}
}

func hasPort(d *appsv1.Deployment, name string) bool {
	for _, cp := range d.Spec.Template.Spec.Containers[0].Ports {
		if name != "" && cp.Name == name {
			return true
		}
	}
	return false
}

// checkAutoscaler: the HPA scales the serving Deployment, which leaves the count to it.
func checkAutoscaler(t *testing.T, c cluster, serve *appsv1.Deployment) {
	t.Helper()
	h := c.hpas[0]
	ref := h.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != serve.Name {
		t.Errorf("HPA %s scales %v, want Deployment %s", h.Name, ref, serve.Name)
	}
	if serve.Spec.Replicas != nil {
		t.Errorf("Deployment %s sets replicas; the HPA owns the count (an apply would reset it)", serve.Name)
	}
	if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 || h.Spec.MaxReplicas < *h.Spec.MinReplicas {
		t.Errorf("HPA %s: min %v max %d, want at least 2 replicas", h.Name, h.Spec.MinReplicas, h.Spec.MaxReplicas)
	}
	if len(h.Spec.Metrics) == 0 || h.Spec.Metrics[0].Resource == nil || h.Spec.Metrics[0].Resource.Name != corev1.ResourceCPU {
		t.Errorf("HPA %s: want a CPU utilization target", h.Name)
	}
}

// checkDisruptionBudgets: each budget covers one Deployment and leaves drains possible.
func checkDisruptionBudgets(t *testing.T, c cluster) {
	t.Helper()
	covered := map[string]bool{}
	for _, p := range c.pdbs {
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		ds := selected(c, sel)
		if err != nil || sel.Empty() || len(ds) != 1 {
			t.Errorf("PDB %s selects %d Deployments (%v), want 1", p.Name, len(ds), err)
			continue
		}
		d := ds[0]
		covered[d.Name] = true
		replicas := int32(0)
		if d.Spec.Replicas != nil {
			replicas = *d.Spec.Replicas
		} else if h := c.hpas[0]; h.Spec.ScaleTargetRef.Name == d.Name && h.Spec.MinReplicas != nil {
			replicas = *h.Spec.MinReplicas
		}
		switch {
		case p.Spec.MinAvailable != nil:
			if v := p.Spec.MinAvailable.IntVal; p.Spec.MinAvailable.StrVal != "" || v < 1 || v >= replicas {
				t.Errorf("PDB %s: minAvailable %s with %d replicas: want 1 ≤ n < replicas, or no drain could ever proceed", p.Name, p.Spec.MinAvailable.String(), replicas)
			}
		case p.Spec.MaxUnavailable != nil:
			if v := p.Spec.MaxUnavailable.IntVal; p.Spec.MaxUnavailable.StrVal != "" || v < 1 || v >= replicas {
				t.Errorf("PDB %s: maxUnavailable %s with %d replicas: want 1 ≤ n < replicas", p.Name, p.Spec.MaxUnavailable.String(), replicas)
			}
		default:
			t.Errorf("PDB %s sets neither minAvailable nor maxUnavailable", p.Name)
		}
	}
	for _, d := range c.deployments {
		if !covered[d.Name] {
			t.Errorf("Deployment %s has no PodDisruptionBudget", d.Name)
		}
	}
}
