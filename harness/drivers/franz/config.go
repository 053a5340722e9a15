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
// Producer:
//
//	acks                     RequiredAcks: all/-1 AllISRAcks, 1 LeaderAck, 0 NoAck
//	enable.idempotence       true: franz-go's default idempotent producer; false: DisableIdempotentWrite.
//	                         Unset with acks != all: not idempotent (as Java 3.x+ does).
//	retries                  RecordRetries (franz-go counts like Java: n retries = n+1 tries)
//	delivery.timeout.ms      RecordDeliveryTimeout (franz-go never fails an idempotent record whose
//	                         request is in flight without a response: it waits, keeping sequence numbers
//	                         right; AllowIdempotentProduceCancellation is NOT set)
//	linger.ms                ProducerLinger
//	max.in.flight.requests.per.connection
//	                         non-idempotent: MaxProduceRequestsInflightPerBroker. Idempotent: franz-go
//	                         always allows 5 (1..5 accepted, ordering is kept by idempotence); > 5 fails.
//	batch.size               ProducerBatchMaxBytes (a hard per-batch cap in franz-go: a single record
//	                         larger than it fails with MESSAGE_TOO_LARGE; Java's batch.size is a soft target)
//	buffer.memory            MaxBufferedBytes (records are also capped at 10000 by MaxBufferedRecords)
//	max.block.ms             the block bound (overrides the start command's max_block_ms): kgo's
//	                         Produce blocks without a time bound while the buffer is full, so the
//	                         driver waits for space itself, at most this long, then fails the send
//	                         (definite) without handing it to the client
//	compression.type         ProducerBatchCompression (none, gzip, snappy, lz4, zstd)
//
// Consumer and member:
//
//	group.id                 ignored (the start command's group is used)
//	auto.offset.reset        earliest: ConsumeStartOffset+ConsumeResetOffset AtStart; latest: AtEnd;
//	                         none: AtCommitted + NoResetOffset. Unset: franz-go's default (start at
//	                         the earliest offset, as kch's own member does)
//	fetch.max.wait.ms        FetchMaxWait (also accepted under librdkafka's name fetch.wait.max.ms)
//	fetch.min.bytes          FetchMinBytes
//	fetch.max.bytes          FetchMaxBytes
//	max.partition.fetch.bytes FetchMaxPartitionBytes
//	isolation.level          FetchIsolationLevel
//	max.poll.records         the maxPollRecords given to PollRecords (default 500, as Java)
//	client.rack              Rack
//	check.crcs               false: DisableFetchCRCValidation
//	allow.auto.create.topics true: AllowAutoTopicCreation
//	default.api.timeout.ms   the bound of a synchronous commit (default 60000, as Java)
//
// Member (the consumer role has no group: these are accepted and have no effect there):
//
//	enable.auto.commit       the start command's mode decides (auto-commit: franz-go autocommit;
//	                         otherwise DisableAutoCommit); the key is accepted
//	auto.commit.interval.ms  AutoCommitInterval
//	session.timeout.ms       SessionTimeout      (classic protocols only; the broker owns it for consumer)
//	heartbeat.interval.ms    HeartbeatInterval   (classic protocols only)
//	max.poll.interval.ms     RebalanceTimeout. franz-go has no poll-interval timer: it heartbeats from
//	                         its own goroutine and never leaves a group because the application is slow.
//	                         The closest setting is the rebalance timeout, which is also what the Java
//	                         client sends as JoinGroup's rebalance timeout: how long the group waits for
//	                         this member to finish its revocation before it is removed.
//	partition.assignment.strategy  classic-eager: Balancers of range, roundrobin, sticky or
//	                         cooperative-sticky (short names or Java class names); default range.
//	                         classic-cooperative always uses CooperativeStickyBalancer.
//	group.instance.id        InstanceID (static membership)
//	group.protocol           classic or consumer (must agree with the start command's protocol)
//	group.remote.assignor    consumer protocol: range -> RangeBalancer (server "range"), uniform or
//	                         unset -> StickyBalancer (server "uniform"), with ServerSideBalancer

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

var (
	commonKeys = map[string]bool{
		"bootstrap.servers": true, "client.id": true, "request.timeout.ms": true, "retry.backoff.ms": true,
		"retry.backoff.max.ms": true, "metadata.max.age.ms": true, "socket.connection.setup.timeout.ms": true,
		"connections.max.idle.ms": true, "security.protocol": true,
	}
	producerKeys = map[string]bool{
		"acks": true, "enable.idempotence": true, "retries": true, "delivery.timeout.ms": true, "linger.ms": true,
		"max.in.flight.requests.per.connection": true, "batch.size": true, "buffer.memory": true,
		"max.block.ms": true, "compression.type": true, "key.serializer": true, "value.serializer": true,
	}
	consumerKeys = map[string]bool{
		"group.id": true, "auto.offset.reset": true, "fetch.max.wait.ms": true, "fetch.wait.max.ms": true,
		"fetch.min.bytes": true, "fetch.max.bytes": true, "max.partition.fetch.bytes": true,
		"isolation.level": true, "max.poll.records": true, "client.rack": true, "check.crcs": true,
		"allow.auto.create.topics": true, "default.api.timeout.ms": true, "key.deserializer": true,
		"value.deserializer": true,
		// group keys (no effect for the consumer role)
		"enable.auto.commit": true, "auto.commit.interval.ms": true, "session.timeout.ms": true,
		"heartbeat.interval.ms": true, "max.poll.interval.ms": true, "partition.assignment.strategy": true,
		"group.instance.id": true, "group.protocol": true, "group.remote.assignor": true,
	}
)

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

func (s *settings) parseProducer(conf map[string]string, ms msFn, integer intFn, boolean boolFn, bad badFn, add addFn) {
	s.acks = "all"
	if v, ok := conf["acks"]; ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "all", "-1":
			add(kgo.RequiredAcks(kgo.AllISRAcks()))
		case "1":
			s.acks = "1"
			add(kgo.RequiredAcks(kgo.LeaderAck()))
		case "0":
			s.acks = "0"
			add(kgo.RequiredAcks(kgo.NoAck()))
		default:
			bad("acks", "not all, -1, 1 or 0")
		}
	}
	if v, ok := boolean("enable.idempotence"); ok {
		s.idempotent = v
		if v && s.acks != "all" {
			bad("enable.idempotence", "idempotence requires acks=all")
		}
	} else {
		s.idempotent = s.acks == "all"
	}
	if !s.idempotent {
		add(kgo.DisableIdempotentWrite())
	}
	if n, ok := integer("max.in.flight.requests.per.connection"); ok {
		switch {
		case n < 1:
			bad("max.in.flight.requests.per.connection", "must be at least 1")
		case s.idempotent && n > 5:
			bad("max.in.flight.requests.per.connection", "at most 5 with idempotence")
		case s.idempotent:
			if n != 5 {
				logf("max.in.flight.requests.per.connection=%d: franz-go's idempotent producer always allows 5 in flight (ordering is kept by idempotence)", n)
			}
		default:
			s.maxInflight = int(n)
			add(kgo.MaxProduceRequestsInflightPerBroker(int(n)))
		}
	}
	if s.maxInflight < 0 {
		if s.idempotent {
			s.maxInflight = 5
		} else {
			s.maxInflight = 1
		}
	}
	if n, ok := integer("retries"); ok {
		if n < 0 {
			bad("retries", "negative")
		} else {
			if n > int64(^uint(0)>>1) {
				n = int64(^uint(0) >> 1)
			}
			add(kgo.RecordRetries(int(n)))
		}
	}
	if d, ok := ms("delivery.timeout.ms"); ok {
		add(kgo.RecordDeliveryTimeout(d))
	}
	if d, ok := ms("linger.ms"); ok {
		add(kgo.ProducerLinger(d))
	}
	if n, ok := integer("batch.size"); ok {
		if n < 512 || n > 1<<30 {
			bad("batch.size", "franz-go needs 512 <= batch bytes <= 1 GiB")
		} else {
			add(kgo.ProducerBatchMaxBytes(int32(n)))
		}
	}
	if n, ok := integer("buffer.memory"); ok {
		if n <= 0 {
			bad("buffer.memory", "must be positive")
		} else {
			s.maxBufBytes = n
			add(kgo.MaxBufferedBytes(int(n)))
		}
	}
	if d, ok := ms("max.block.ms"); ok {
		s.maxBlock = d
	}
	if v, ok := conf["compression.type"]; ok {
		var codec kgo.CompressionCodec
		switch strings.ToLower(v) {
		case "none":
			codec = kgo.NoCompression()
		case "gzip":
			codec = kgo.GzipCompression()
		case "snappy":
			codec = kgo.SnappyCompression()
		case "lz4":
			codec = kgo.Lz4Compression()
		case "zstd":
			codec = kgo.ZstdCompression()
		default:
			bad("compression.type", "not none, gzip, snappy, lz4 or zstd")
		}
		add(kgo.ProducerBatchCompression(codec))
	}
	add(kgo.MaxBufferedRecords(int(s.maxBufRecs)))
	if s.reqTimeout > 0 {
		overhead := clampOverhead(s.reqTimeout / 2)
		produce := s.reqTimeout - overhead
		if produce < time.Millisecond {
			produce = time.Millisecond
		}
		add(kgo.RequestTimeoutOverhead(overhead), kgo.ProduceRequestTimeout(produce))
	}
}

func (s *settings) parseConsumer(conf map[string]string, ms msFn, integer intFn, boolean boolFn, bad badFn, add addFn) {
	if s.reqTimeout > 0 {
		add(kgo.RequestTimeoutOverhead(clampOverhead(s.reqTimeout)))
	}
	if v, ok := conf["auto.offset.reset"]; ok {
		switch strings.ToLower(v) {
		case "earliest":
			add(kgo.ConsumeStartOffset(kgo.NewOffset().AtStart()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		case "latest":
			add(kgo.ConsumeStartOffset(kgo.NewOffset().AtEnd()), kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
		case "none":
			add(kgo.ConsumeStartOffset(kgo.NewOffset().AtCommitted()), kgo.ConsumeResetOffset(kgo.NoResetOffset()))
		default:
			bad("auto.offset.reset", "not earliest, latest or none")
		}
	}
	wait, ok := ms("fetch.max.wait.ms")
	if w2, ok2 := ms("fetch.wait.max.ms"); ok2 && !ok {
		wait, ok = w2, true
	}
	if ok {
		if wait < time.Millisecond {
			wait = time.Millisecond
		}
		add(kgo.FetchMaxWait(wait))
	}
	if n, ok := integer("fetch.min.bytes"); ok {
		add(kgo.FetchMinBytes(int32(n)))
	}
	if n, ok := integer("fetch.max.bytes"); ok {
		add(kgo.FetchMaxBytes(int32(n)))
	}
	if n, ok := integer("max.partition.fetch.bytes"); ok {
		add(kgo.FetchMaxPartitionBytes(int32(n)))
	}
	if v, ok := conf["isolation.level"]; ok {
		switch strings.ToLower(v) {
		case "read_uncommitted":
			add(kgo.FetchIsolationLevel(kgo.ReadUncommitted()))
		case "read_committed":
			add(kgo.FetchIsolationLevel(kgo.ReadCommitted()))
		default:
			bad("isolation.level", "not read_uncommitted or read_committed")
		}
	}
	if n, ok := integer("max.poll.records"); ok {
		if n < 1 {
			bad("max.poll.records", "must be at least 1")
		} else {
			s.pollRecords = int(n)
		}
	}
	if v, ok := conf["client.rack"]; ok && v != "" {
		add(kgo.Rack(v))
	}
	if v, ok := boolean("check.crcs"); ok && !v {
		add(kgo.DisableFetchCRCValidation())
	}
	if v, ok := boolean("allow.auto.create.topics"); ok && v {
		add(kgo.AllowAutoTopicCreation())
	}
	if d, ok := ms("default.api.timeout.ms"); ok {
		s.commitTimeout = d
	}
	boolean("enable.auto.commit") // validated; the member's mode decides

	if s.role != "member" {
		return // group keys have no effect without a group
	}
	g := []kgo.Opt{}
	classic := s.protocol != "consumer"
	if d, ok := ms("session.timeout.ms"); ok && classic {
		g = append(g, kgo.SessionTimeout(d))
	}
	if d, ok := ms("heartbeat.interval.ms"); ok && classic {
		g = append(g, kgo.HeartbeatInterval(d))
	}
	if d, ok := ms("max.poll.interval.ms"); ok {
		g = append(g, kgo.RebalanceTimeout(d))
	}
	if s.mode == "auto-commit" {
		if d, ok := ms("auto.commit.interval.ms"); ok {
			if d < time.Millisecond {
				d = time.Millisecond
			}
			g = append(g, kgo.AutoCommitInterval(d))
		}
	} else {
		ms("auto.commit.interval.ms")
		g = append(g, kgo.DisableAutoCommit())
	}
	if v, ok := conf["group.instance.id"]; ok && v != "" {
		s.instanceID = v
		g = append(g, kgo.InstanceID(v))
	}
	switch s.protocol {
	case "classic-cooperative":
		g = append(g, kgo.Balancers(kgo.CooperativeStickyBalancer()))
	case "classic-eager":
		balancers := []kgo.GroupBalancer{kgo.RangeBalancer()}
		if v, ok := conf["partition.assignment.strategy"]; ok {
			balancers = nil
			for _, name := range strings.Split(v, ",") {
				name = strings.TrimSpace(name)
				if name == "" {
					continue
				}
				b := balancerFor(name)
				if b == nil {
					bad("partition.assignment.strategy", "not range, roundrobin, sticky or cooperative-sticky")
					return
				}
				balancers = append(balancers, b)
			}
			if len(balancers) == 0 {
				bad("partition.assignment.strategy", "empty")
				return
			}
		}
		g = append(g, kgo.Balancers(balancers...))
	case "consumer":
		b := kgo.StickyBalancer() // server assignor "uniform", the broker's default
		if v, ok := conf["group.remote.assignor"]; ok {
			switch strings.ToLower(v) {
			case "range":
				b = kgo.RangeBalancer()
			case "uniform", "":
			default:
				bad("group.remote.assignor", "franz-go can ask only for range or uniform")
			}
		}
		g = append(g, kgo.Balancers(b), kgo.ServerSideBalancer())
	}
	for _, o := range g {
		add(o)
	}
}

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

func balancerFor(name string) kgo.GroupBalancer {
	n := strings.ToLower(name)
	switch {
	case n == "range" || strings.HasSuffix(n, ".rangeassignor"):
		return kgo.RangeBalancer()
	case n == "roundrobin" || strings.HasSuffix(n, ".roundrobinassignor"):
		return kgo.RoundRobinBalancer()
	case n == "cooperative-sticky" || strings.HasSuffix(n, ".cooperativestickyassignor"):
		return kgo.CooperativeStickyBalancer()
	case n == "sticky" || strings.HasSuffix(n, ".stickyassignor"):
		return kgo.StickyBalancer()
	}
	return nil
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
