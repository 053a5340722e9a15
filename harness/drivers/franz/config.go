package main

// Java client properties -> kgo options.
//
// Every role:
//
//	bootstrap.servers        SeedBrokers (added to the start command's bootstrap)
//	client.id                ClientID
//	request.timeout.ms       producer: ProduceRequestTimeout(t/2) + RequestTimeoutOverhead(t/2) (the
//	                         overhead kept within franz-go's 100ms..15m), so a
//	                         produce request on a silent connection fails after t (franz-go's read
//	                         deadline for a produce is overhead + produce timeout); every other request
//	                         then fails after t/2. consumer/member: RequestTimeoutOverhead(t) (a fetch
//	                         fails after t + fetch.max.wait.ms, as its wait is added by franz-go).
//	retry.backoff.ms         RetryBackoffFn: exponential from this, doubled per failure, capped at
//	retry.backoff.max.ms     (default 1000, as Java), with Java's +-20 % jitter
//	metadata.max.age.ms      MetadataMaxAge
//	socket.connection.setup.timeout.ms  DialTimeout
//	connections.max.idle.ms  ConnIdleTimeout
//	security.protocol        PLAINTEXT only
//	key/value.(de)serializer accepted if a String or ByteArray (de)serializer (values are strings)
//
// The producer's keys are mapped in config_producer.go, the consumer's and the member's in
// config_consumer.go (with their tables). This file holds what every role shares: the
// settings, the key check, the value parsers and the keys above.

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

type settings struct {
	role     string
	opts     []kgo.Opt
	seeds    []string
	maxBlock time.Duration

	// producer
	idempotent   bool
	maxInflight  int
	maxBufRecs   int64
	maxBufBytes  int64
	acks         string
	reqTimeout   time.Duration
	produceTimer time.Duration

	// consumer / member
	pollRecords   int
	commitTimeout time.Duration
	protocol      string // member: classic-eager | classic-cooperative | consumer
	mode          string // member: commit-after-process | commit-async | auto-commit
	processMs     float64
	instanceID    string
}

var commonKeys = map[string]bool{
	"bootstrap.servers": true, "client.id": true, "request.timeout.ms": true, "retry.backoff.ms": true,
	"retry.backoff.max.ms": true, "metadata.max.age.ms": true, "socket.connection.setup.timeout.ms": true,
	"connections.max.idle.ms": true, "security.protocol": true,
}

func configString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

// parseConfig maps the start command's config. It returns the keys it cannot map (then the
// driver answers unsupported) or an error for a value it cannot use.
func parseConfig(c *command) (*settings, []string, error) {
	s := &settings{
		role:          c.Role,
		maxBufRecs:    10000,
		maxInflight:   -1,
		pollRecords:   500,
		commitTimeout: 60 * time.Second,
		protocol:      c.Protocol,
		mode:          c.Mode,
		processMs:     c.ProcessMs,
		idempotent:    true,
	}
	if c.MaxBlockMs != nil {
		s.maxBlock = time.Duration(*c.MaxBlockMs * float64(time.Millisecond))
	} else {
		s.maxBlock = 60 * time.Second
	}
	for _, b := range strings.Split(c.Bootstrap, ",") {
		if b = strings.TrimSpace(b); b != "" {
			s.seeds = append(s.seeds, b)
		}
	}
	conf := map[string]string{}
	for k, v := range c.Config {
		conf[k] = configString(v)
	}

	var unsupported []string
	for k := range conf {
		ok := commonKeys[k]
		switch c.Role {
		case "producer":
			ok = ok || producerKeys[k]
		case "consumer", "member":
			ok = ok || consumerKeys[k]
		}
		if !ok {
			unsupported = append(unsupported, k)
		}
	}
	if c.Role == "member" {
		if c.Protocol == "" {
			s.protocol = "classic-eager"
		}
		switch s.protocol {
		case "classic-eager", "classic-cooperative", "consumer":
		default:
			return nil, nil, fmt.Errorf("unknown group protocol %q", c.Protocol)
		}
		switch s.mode {
		case "commit-after-process", "commit-async", "auto-commit":
		default:
			return nil, nil, fmt.Errorf("unknown member mode %q", c.Mode)
		}
		if gp, ok := conf["group.protocol"]; ok {
			gp = strings.ToLower(gp)
			if (gp == "consumer") != (s.protocol == "consumer") || (gp != "consumer" && gp != "classic") {
				return nil, nil, fmt.Errorf("group.protocol=%s disagrees with protocol %s", gp, s.protocol)
			}
		}
	}
	if len(unsupported) > 0 {
		return nil, unsupported, nil
	}

	var errs []string
	bad := func(k, why string) { errs = append(errs, fmt.Sprintf("%s=%q: %s", k, conf[k], why)) }
	ms := func(k string) (time.Duration, bool) {
		v, ok := conf[k]
		if !ok {
			return 0, false
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 0 {
			bad(k, "not a non-negative number of milliseconds")
			return 0, false
		}
		return time.Duration(n) * time.Millisecond, true
	}
	integer := func(k string) (int64, bool) {
		v, ok := conf[k]
		if !ok {
			return 0, false
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			bad(k, "not an integer")
			return 0, false
		}
		return n, true
	}
	boolean := func(k string) (bool, bool) {
		v, ok := conf[k]
		if !ok {
			return false, false
		}
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
		bad(k, "not true or false")
		return false, false
	}
	add := func(o ...kgo.Opt) { s.opts = append(s.opts, o...) }

	// ---- every role
	if v, ok := conf["bootstrap.servers"]; ok {
		for _, b := range strings.Split(v, ",") {
			if b = strings.TrimSpace(b); b != "" {
				s.seeds = append(s.seeds, b)
			}
		}
	}
	if len(s.seeds) == 0 {
		errs = append(errs, "no bootstrap servers")
	}
	if v, ok := conf["client.id"]; ok {
		add(kgo.ClientID(v))
	}
	if v, ok := conf["security.protocol"]; ok && !strings.EqualFold(v, "PLAINTEXT") {
		return nil, []string{"security.protocol"}, nil
	}
	for _, k := range []string{"key.serializer", "value.serializer", "key.deserializer", "value.deserializer"} {
		if v, ok := conf[k]; ok && !strings.HasSuffix(v, "StringSerializer") && !strings.HasSuffix(v, "ByteArraySerializer") &&
			!strings.HasSuffix(v, "StringDeserializer") && !strings.HasSuffix(v, "ByteArrayDeserializer") {
			return nil, []string{k}, nil
		}
	}
	if d, ok := ms("request.timeout.ms"); ok {
		if d < 2*time.Millisecond {
			bad("request.timeout.ms", "too small")
		} else {
			s.reqTimeout = d
		}
	}
	backoff, haveBackoff := ms("retry.backoff.ms")
	backoffMax, haveMax := ms("retry.backoff.max.ms")
	if haveBackoff || haveMax {
		if !haveBackoff {
			backoff = 100 * time.Millisecond // Java's default
		}
		if !haveMax {
			backoffMax = time.Second // Java's default
		}
		if backoffMax < backoff {
			backoffMax = backoff
		}
		add(kgo.RetryBackoffFn(javaBackoff(backoff, backoffMax)))
	}
	if d, ok := ms("metadata.max.age.ms"); ok {
		add(kgo.MetadataMaxAge(d))
		if d < 5*time.Second {
			add(kgo.MetadataMinAge(d))
		}
	}
	if d, ok := ms("socket.connection.setup.timeout.ms"); ok {
		add(kgo.DialTimeout(d))
	}
	if d, ok := ms("connections.max.idle.ms"); ok {
		add(kgo.ConnIdleTimeout(d))
	}

	switch c.Role {
	case "producer":
		s.parseProducer(conf, ms, integer, boolean, bad, add)
	case "consumer", "member":
		s.parseConsumer(conf, ms, integer, boolean, bad, add)
	}
	if len(errs) > 0 {
		return nil, nil, errors.New("bad config: " + strings.Join(errs, "; "))
	}
	return s, nil, nil
}

type (
	msFn   func(string) (time.Duration, bool)
	intFn  func(string) (int64, bool)
	boolFn func(string) (bool, bool)
	badFn  func(k, why string)
	addFn  func(...kgo.Opt)
)

// clampOverhead keeps a request timeout overhead within what franz-go accepts (100ms..15m).
func clampOverhead(d time.Duration) time.Duration {
	if d < 100*time.Millisecond {
		return 100 * time.Millisecond
	}
	if d > 15*time.Minute {
		return 15 * time.Minute
	}
	return d
}

// javaBackoff is the Java client's retry backoff: base * 2^(fails-1), capped, +-20 % jitter.
func javaBackoff(base, max time.Duration) func(int) time.Duration {
	var mu sync.Mutex
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	return func(fails int) time.Duration {
		d := base
		for i := 1; i < fails && d < max; i++ {
			d *= 2
		}
		if d > max {
			d = max
		}
		if base == max {
			return d
		}
		mu.Lock()
		j := 0.8 + 0.4*rng.Float64()
		mu.Unlock()
		return time.Duration(float64(d) * j)
	}
}
