// Command franz is kch's driver for the franz-go Kafka client (github.com/twmb/franz-go).
//
// It speaks the driver protocol kch-driver/1 (docs/driver-protocol.md): JSON commands on
// stdin, JSON events on stdout (one object per line, flushed), a log on stderr. One process
// plays one role: producer, consumer (partitions assigned by kch, no group) or member (a
// consumer-group member).
//
// Config arrives in Java client property names; see the tables in config.go (every role),
// config_producer.go and config_consumer.go for how each key is mapped to a kgo option. A
// key with no franz-go equivalent is answered with startup_failed + unsupported.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

const franzModule = "github.com/twmb/franz-go"

var started atomic.Bool // a start command was read (before it, nothing goes to stdout)

// ---------------------------------------------------------------------------------------
// Output: every event goes through out, which serializes and flushes each line.

type output struct {
	mu sync.Mutex
	w  *bufio.Writer
}

var out = &output{w: bufio.NewWriterSize(os.Stdout, 1<<16)}

// field is one key/value of an event, kept in order so lines read naturally.
type field struct {
	k string
	v any
}

type fields []field

func monoNow() float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return float64(ts.Sec) + float64(ts.Nsec)/1e9
}

// encode renders one event line (without the newline).
func encode(name string, fs fields) []byte {
	var b bytes.Buffer
	b.WriteString(`{"name":`)
	writeJSON(&b, name)
	for _, f := range fs {
		b.WriteByte(',')
		writeJSON(&b, f.k)
		b.WriteByte(':')
		writeJSON(&b, f.v)
	}
	b.WriteString(`,"timestamp":`)
	fmt.Fprintf(&b, "%d", time.Now().UnixMilli())
	b.WriteString(`,"mono":`)
	fmt.Fprintf(&b, "%.6f", monoNow())
	b.WriteByte('}')
	return b.Bytes()
}

func writeJSON(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case json.RawMessage:
		if len(x) == 0 {
			b.WriteString("null")
		} else {
			b.Write(x)
		}
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		data, _ = json.Marshal(fmt.Sprint(v))
	}
	b.Write(data)
}

// writeLocked writes one event; the caller holds out.mu.
func (o *output) writeLocked(name string, fs fields) {
	o.w.Write(encode(name, fs))
	o.w.WriteByte('\n')
	if err := o.w.Flush(); err != nil {
		// Nobody reads our events any more: there is nothing left to do.
		logf("stdout: %v; exiting", err)
		os.Exit(0)
	}
}

func (o *output) emit(name string, fs fields) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.writeLocked(name, fs)
}

func emit(name string, fs ...field) { out.emit(name, fs) }

func f(k string, v any) field { return field{k, v} }

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s franz-driver: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

// ---------------------------------------------------------------------------------------
// Commands.

type command struct {
	Op         string           `json:"op"`
	Role       string           `json:"role"`
	Bootstrap  string           `json:"bootstrap"`
	Config     map[string]any   `json:"config"`
	MaxBlockMs *float64         `json:"max_block_ms"`
	Group      string           `json:"group"`
	Topic      string           `json:"topic"`
	Mode       string           `json:"mode"`
	Protocol   string           `json:"protocol"`
	ProcessMs  float64          `json:"process_ms"`
	ID         json.RawMessage  `json:"id"`
	Key        *string          `json:"key"`
	Partition  *int32           `json:"partition"`
	Value      *string          `json:"value"`
	TimeoutMs  *float64         `json:"timeout_ms"`
	Partitions []int32          `json:"partitions"`
	Offsets    map[string]int64 `json:"offsets"`
	Ms         float64          `json:"ms"`
}

// readCommands feeds commands from stdin to ch; stdin closing is a shutdown.
func readCommands(ch chan<- *command) {
	r := bufio.NewReaderSize(os.Stdin, 1<<20)
	for {
		line, err := r.ReadBytes('\n')
		line = bytes.TrimSpace(line)
		if len(line) > 0 {
			var c command
			dec := json.NewDecoder(bytes.NewReader(line))
			dec.UseNumber()
			if jerr := dec.Decode(&c); jerr != nil {
				if started.Load() {
					emit("error", f("message", fmt.Sprintf("not a command: %v", jerr)))
				} else {
					logf("not a command: %v", jerr)
				}
			} else {
				ch <- &c
			}
		}
		if err != nil {
			if err != io.EOF {
				logf("stdin: %v", err)
			}
			ch <- &command{Op: "shutdown"}
			return
		}
	}
}

func clientVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == franzModule {
				if d.Replace != nil && d.Replace.Version != "" {
					return d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return "unknown"
}

func startupFailed(msg string, unsupported []string) {
	fs := fields{f("message", msg)}
	if len(unsupported) > 0 {
		sort.Strings(unsupported)
		fs = append(fs, f("unsupported", unsupported))
	}
	out.emit("startup_failed", fs)
	os.Exit(0)
}

func shutdownComplete() {
	emit("shutdown_complete")
	os.Exit(0)
}

func unknownOp(c *command, role string) {
	emit("error", f("op", c.Op), f("message", fmt.Sprintf("unknown op %q for role %s", c.Op, role)))
}

func main() {
	cmds := make(chan *command, 1024)
	go readCommands(cmds)

	var start *command
	for c := range cmds {
		if c.Op == "start" {
			started.Store(true)
			start = c
			break
		}
		if c.Op == "shutdown" {
			logf("shutdown (or stdin closed) before start")
			os.Exit(0)
		}
		// Nothing may precede startup_complete on stdout (rule 1): log it only.
		logf("ignoring op %q before start", c.Op)
	}

	cfg, unsupported, err := parseConfig(start)
	if len(unsupported) > 0 {
		startupFailed("franz-go has no equivalent for: "+strings.Join(unsupported, ", "), unsupported)
	}
	if err != nil {
		startupFailed(err.Error(), nil)
	}
	switch start.Role {
	case "producer":
		runProducer(start, cfg, cmds)
	case "consumer":
		runConsumer(start, cfg, cmds)
	case "member":
		runMember(start, cfg, cmds)
	default:
		startupFailed(fmt.Sprintf("unknown role %q", start.Role), nil)
	}
}
