package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// manualKey marks, in a record's Context, a record whose partition was chosen by the sender.
type manualKey struct{}

var (
	autoCtx   = context.Background()
	manualCtx = context.WithValue(context.Background(), manualKey{}, true)
)

// partitioner sends a record with a chosen partition there, and any other record where
// franz-go's default partitioner would (UniformBytesPartitioner(64 KiB, adaptive, keys hashed
// with Kafka's murmur2), which is the Java client's default behaviour: keyed records by hash,
// unkeyed ones sticky).
type partitioner struct{ def kgo.Partitioner }

// topicPartitioner always offers PartitionByBackup (franz-go then never calls Partition);
// the default (uniform bytes) partitions by backup too. It has no OnNewBatch, nor does ours.
type topicPartitioner struct {
	def    kgo.TopicPartitioner
	backup kgo.TopicBackupPartitioner
}

func isManual(r *kgo.Record) bool {
	return r.Context != nil && r.Context.Value(manualKey{}) != nil
}

func (p partitioner) ForTopic(t string) kgo.TopicPartitioner {
	d := p.def.ForTopic(t)
	tp := &topicPartitioner{def: d}
	tp.backup, _ = d.(kgo.TopicBackupPartitioner)
	return tp
}

// A manual record requires consistency, so franz-go partitions it among all partitions of
// the topic, in partition order: the index is the partition.
func (p *topicPartitioner) RequiresConsistency(r *kgo.Record) bool {
	return isManual(r) || p.def.RequiresConsistency(r)
}

func (p *topicPartitioner) Partition(r *kgo.Record, n int) int {
	if isManual(r) {
		return int(r.Partition)
	}
	return p.def.Partition(r, n)
}

func (p *topicPartitioner) PartitionByBackup(r *kgo.Record, n int, it kgo.TopicBackupIter) int {
	if isManual(r) {
		return int(r.Partition)
	}
	if p.backup != nil {
		return p.backup.PartitionByBackup(r, n, it)
	}
	return p.def.Partition(r, n)
}

type send struct {
	seq   uint64
	id    json.RawMessage
	topic string
	key   *string
	value string
	done  bool
}

type producer struct {
	cl      *kgo.Client
	s       *settings
	pending map[uint64]*send // guarded by out.mu
	seq     uint64
	space   chan struct{}
	allDone chan struct{} // signalled when pending may have become empty
}

func keyJSON(k *string) any {
	if k == nil {
		return nil
	}
	return *k
}

// finish writes a send's one outcome (if it has none yet).
func (p *producer) finish(sd *send, success bool, partition int32, offset int64, exc, msg string, definite bool) {
	out.mu.Lock()
	if sd.done {
		out.mu.Unlock()
		return
	}
	sd.done = true
	delete(p.pending, sd.seq)
	if success {
		out.writeLocked("producer_send_success", fields{
			f("id", sd.id), f("topic", sd.topic), f("partition", partition), f("offset", offset),
			f("key", keyJSON(sd.key)), f("value", sd.value)})
	} else {
		out.writeLocked("producer_send_error", fields{
			f("id", sd.id), f("topic", sd.topic), f("key", keyJSON(sd.key)), f("value", sd.value),
			f("exception", exc), f("message", msg), f("definite", definite)})
	}
	empty := len(p.pending) == 0
	out.mu.Unlock()
	select {
	case p.space <- struct{}{}:
	default:
	}
	if empty {
		select {
		case p.allDone <- struct{}{}:
		default:
		}
	}
}

func runProducer(start *command, s *settings, cmds <-chan *command) {
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(s.seeds...),
		kgo.WithLogger(kgo.BasicLogger(os.Stderr, kgo.LogLevelInfo, nil)),
		kgo.RecordPartitioner(partitioner{kgo.UniformBytesPartitioner(64<<10, true, true, nil)}),
	}, s.opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		startupFailed(err.Error(), nil)
	}
	p := &producer{cl: cl, s: s, pending: map[uint64]*send{}, space: make(chan struct{}, 1),
		allDone: make(chan struct{}, 1)}
	emit("startup_complete", f("client", "franz-go"), f("version", clientVersion()))

	for c := range cmds {
		switch c.Op {
		case "send":
			p.send(c)
		case "flush":
			timeout := 30 * time.Second
			if c.TimeoutMs != nil {
				timeout = time.Duration(*c.TimeoutMs * float64(time.Millisecond))
			}
			p.flush(timeout)
		case "shutdown":
			p.shutdown()
		default:
			unknownOp(c, "producer")
		}
	}
}

func (p *producer) send(c *command) {
	value := ""
	if c.Value != nil {
		value = *c.Value
	}
	sd := &send{id: c.ID, topic: c.Topic, key: c.Key, value: value}
	out.mu.Lock()
	p.seq++
	sd.seq = p.seq
	p.pending[sd.seq] = sd
	out.mu.Unlock()

	r := &kgo.Record{Topic: c.Topic, Value: []byte(value), Context: autoCtx}
	if c.Key != nil {
		r.Key = []byte(*c.Key)
	}
	if c.Partition != nil {
		if *c.Partition < 0 {
			p.finish(sd, false, 0, 0, "IllegalArgumentException", "negative partition", true)
			return
		}
		r.Partition = *c.Partition
		r.Context = manualCtx
	}
	// kgo's Produce blocks with no time bound while the buffer is full (and a context given
	// to Produce would also cancel the record after it is buffered), so the bound is kept
	// here: wait for space at most max_block_ms, then hand the record over with TryProduce.
	// Only this goroutine produces, so space seen here is still there for TryProduce.
	size := int64(len(r.Key) + len(r.Value))
	if !p.waitSpace(size) {
		p.finish(sd, false, 0, 0, "TimeoutException",
			"the send buffer stayed full for max_block_ms ("+p.s.maxBlock.String()+"); the record never reached the client", true)
		return
	}
	p.cl.TryProduce(autoCtx, r, func(r *kgo.Record, err error) {
		if err == nil {
			offset := r.Offset
			if p.s.acks == "0" {
				// With acks=0 the broker answers nothing: franz-go numbers the records from 0
				// within their batch, which is no log offset. -1 says unknown, as Java does.
				offset = -1
			}
			p.finish(sd, true, r.Partition, offset, "", "", false)
			return
		}
		exc, definite := p.classify(err)
		p.finish(sd, false, 0, 0, exc, err.Error(), definite)
	})
}

func (p *producer) hasSpace(size int64) bool {
	if p.cl.BufferedProduceRecords() >= p.s.maxBufRecs {
		return false
	}
	if p.s.maxBufBytes > 0 && size <= p.s.maxBufBytes && p.cl.BufferedProduceBytes()+size > p.s.maxBufBytes {
		return false
	}
	return true
}

func (p *producer) waitSpace(size int64) bool {
	if p.hasSpace(size) {
		return true
	}
	deadline := time.NewTimer(p.s.maxBlock)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.space:
		case <-tick.C:
		case <-deadline.C:
			return p.hasSpace(size)
		}
		if p.hasSpace(size) {
			return true
		}
	}
}

// definiteProduce are broker (or client) verdicts after which the record was certainly not
// appended by the request that got them.
var definiteProduce = []*kerr.Error{
	kerr.MessageTooLarge, kerr.RecordListTooLarge, kerr.InvalidRecord, kerr.CorruptMessage,
	kerr.NotEnoughReplicas, kerr.TopicAuthorizationFailed, kerr.ClusterAuthorizationFailed,
	kerr.UnknownTopicOrPartition, kerr.UnknownTopicID, kerr.InvalidTopicException,
	kerr.InvalidRequiredAcks, kerr.InvalidTimestamp, kerr.UnsupportedForMessageFormat,
	kerr.UnsupportedVersion, kerr.PolicyViolation, kerr.TransactionalIDAuthorizationFailed,
}

// classify names a produce error and says whether it is definite: the record was certainly
// not appended. Timeouts, exhausted retries, a closed client and anything unknown are not.
func (p *producer) classify(err error) (string, bool) {
	msg := err.Error()
	switch {
	case errors.Is(err, kgo.ErrRecordTimeout):
		return "TimeoutException", false
	case errors.Is(err, kgo.ErrRecordRetries):
		return "RetriesExhaustedException", false
	case errors.Is(err, kgo.ErrClientClosed):
		return "ClientClosedException", false
	case errors.Is(err, kgo.ErrMaxBuffered):
		return "BufferExhaustedException", true // refused before it was buffered
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "TimeoutException", false
	}
	// Refused by the client before anything was sent.
	if strings.Contains(msg, "invalid record partitioning choice") || strings.Contains(msg, "unable to partition record") ||
		strings.Contains(msg, "no topic") {
		return "IllegalArgumentException", true
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		name := javaName(ke.Message)
		if errors.Is(err, kerr.MessageTooLarge) && !strings.Contains(msg, "compressed_bytes=") {
			return name, true // the client's own size check: never sent
		}
		for _, d := range definiteProduce {
			if ke.Code == d.Code {
				// With several requests in flight and no idempotence, a later batch of the
				// partition failed along with this one may already have been appended.
				return name, p.s.idempotent || p.s.maxInflight <= 1
			}
		}
		return name, false
	}
	return "KafkaException", false
}

// javaName turns NOT_ENOUGH_REPLICAS into NotEnoughReplicasException.
func javaName(code string) string {
	var b strings.Builder
	for _, part := range strings.Split(strings.ToLower(code), "_") {
		if part == "" {
			continue
		}
		r := []rune(part)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	b.WriteString("Exception")
	return b.String()
}

// flush waits up to timeout for every outcome, then answers flushed.
func (p *producer) flush(timeout time.Duration) int {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := p.cl.Flush(ctx); err != nil {
		logf("flush: %v", err)
	}
	// Flush returns once nothing is buffered; outcomes may still be on their way through
	// the promise goroutine.
	for {
		out.mu.Lock()
		n := len(p.pending)
		if n == 0 || ctx.Err() != nil {
			out.writeLocked("flushed", fields{f("outstanding", n)})
			out.mu.Unlock()
			return n
		}
		out.mu.Unlock()
		select {
		case <-p.allDone:
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (p *producer) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	if err := p.cl.Flush(ctx); err != nil {
		logf("shutdown: flush: %v", err)
	}
	cancel()
	done := make(chan struct{})
	go func() { p.cl.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		logf("shutdown: close did not finish within 5 s")
	}
	// Close fails whatever is still buffered; wait a moment for those outcomes.
	deadline := time.After(5 * time.Second)
	for {
		out.mu.Lock()
		n := len(p.pending)
		out.mu.Unlock()
		if n == 0 {
			break
		}
		select {
		case <-p.allDone:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			out.mu.Lock()
			left := make([]*send, 0, len(p.pending))
			for _, sd := range p.pending {
				left = append(left, sd)
			}
			out.mu.Unlock()
			for _, sd := range left {
				p.finish(sd, false, 0, 0, "ClientClosedException", "the client closed before the send had an outcome", false)
			}
		}
	}
	shutdownComplete()
}
