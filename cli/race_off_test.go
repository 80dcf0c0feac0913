//go:build !race

package cli

// raceDetector: this test binary runs without the race detector.
const raceDetector, raceSlowdown = false, 1
