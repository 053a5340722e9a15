package main

// Java client properties -> kgo options: the producer (the keys every role takes are in
// config.go).
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

import (
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

var producerKeys = map[string]bool{
	"acks": true, "enable.idempotence": true, "retries": true, "delivery.timeout.ms": true, "linger.ms": true,
	"max.in.flight.requests.per.connection": true, "batch.size": true, "buffer.memory": true,
	"max.block.ms": true, "compression.type": true, "key.serializer": true, "value.serializer": true,
}

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
