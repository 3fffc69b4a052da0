// Package metrics exposes a Dormouse process's health to Prometheus: commit
// rates, latency and conflicts as they happen (through table.Observer), and
// the shape of every open table — partitions, files per partition, rows,
// jobs — read from each table's cached state when scraped, so that a scrape
// never touches the object store.
package metrics

import (
	"context"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/table"
)

// Metrics is one process's metrics registry. It implements table.Observer.
type Metrics struct {
	reg           *prometheus.Registry
	commits       *prometheus.CounterVec
	commitErrors  *prometheus.CounterVec
	commitSeconds *prometheus.HistogramVec
	conflicts     *prometheus.CounterVec
	jobs          *prometheus.CounterVec
	jobRows       *prometheus.CounterVec
	jobSeconds    *prometheus.HistogramVec
}

// New returns a registry whose table gauges describe the tables that tables
// returns at each scrape.
func New(tables func() []*table.Table) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		commits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dormouse_commits_total",
			Help: "Transactions committed to table logs, by table and kind.",
		}, []string{"table", "kind"}),
		commitErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dormouse_commit_errors_total",
			Help: "Transactions refused or failed, by table and kind.",
		}, []string{"table", "kind"}),
		commitSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dormouse_commit_seconds",
			Help:    "Latency of a commit to a table's log, including group-commit waits and retries.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}, []string{"table"}),
		conflicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dormouse_commit_conflicts_total",
			Help: "Log entries lost to another writer (each is retried).",
		}, []string{"table"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dormouse_jobs_total",
			Help: "Compaction jobs ended by this process, by table, kind and status.",
		}, []string{"table", "kind", "status"}),
		jobRows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dormouse_job_rows_total",
			Help: "Rows read by compaction jobs this process finished.",
		}, []string{"table"}),
		jobSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dormouse_job_seconds",
			Help:    "Duration of compaction jobs this process ended.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 16),
		}, []string{"table"}),
	}
	m.reg.MustRegister(m.commits, m.commitErrors, m.commitSeconds, m.conflicts, m.jobs, m.jobRows, m.jobSeconds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&tableCollector{tables: tables})
	return m
}

// Registry is the underlying registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Committed implements table.Observer.
func (m *Metrics) Committed(tbl, kind string, took time.Duration, err error) {
	if err != nil {
		m.commitErrors.WithLabelValues(tbl, kind).Inc()
		return
	}
	m.commits.WithLabelValues(tbl, kind).Inc()
	m.commitSeconds.WithLabelValues(tbl).Observe(took.Seconds())
}

// Conflicted implements table.Observer.
func (m *Metrics) Conflicted(tbl string) { m.conflicts.WithLabelValues(tbl).Inc() }

// JobEnded records a compaction job this process ran: status is finished,
// failed or dropped.
func (m *Metrics) JobEnded(tbl, kind, status string, inputRows int64, took time.Duration) {
	m.jobs.WithLabelValues(tbl, kind, status).Inc()
	if status == "finished" {
		m.jobRows.WithLabelValues(tbl).Add(float64(inputRows))
	}
	m.jobSeconds.WithLabelValues(tbl).Observe(took.Seconds())
}

// ObservePageCache exports the counters of the engine's page cache (the
// decoded pages point reads share): hits and misses, whose ratio says
// whether --page-cache holds the hot pages, and the bytes it holds.
func (m *Metrics) ObservePageCache(c *datafile.PageCache) {
	stat := func(f func(datafile.PageCacheStats) int64) func() float64 {
		return func() float64 { return float64(f(c.Stats())) }
	}
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "dormouse_page_cache_hits_total",
			Help: "Page reads served from the page cache."}, stat(func(s datafile.PageCacheStats) int64 { return s.Hits })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "dormouse_page_cache_misses_total",
			Help: "Page reads that fetched and decompressed the page."}, stat(func(s datafile.PageCacheStats) int64 { return s.Misses })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "dormouse_page_cache_bytes",
			Help: "Bytes of pages the page cache holds."}, stat(func(s datafile.PageCacheStats) int64 { return s.Bytes })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "dormouse_page_cache_limit_bytes",
			Help: "The page cache's size (--page-cache)."}, stat(func(s datafile.PageCacheStats) int64 { return s.Limit })),
	)
}

// Serve answers /metrics on addr until ctx ends, and Go's profiles under
// /debug/pprof/ so a slow server can be profiled where it runs (the
// address is an operator's, like the metrics themselves).
func (m *Metrics) Serve(ctx context.Context, addr string) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shut)
	}
}

var (
	descPartitions = prometheus.NewDesc("dormouse_table_leaf_partitions",
		"Leaf partitions of the table.", []string{"table"}, nil)
	descFiles = prometheus.NewDesc("dormouse_table_files",
		"Data files the table's state knows, referenced or waiting for garbage collection.", []string{"table"}, nil)
	descUnreferenced = prometheus.NewDesc("dormouse_table_unreferenced_files",
		"Data files with no reference, waiting for garbage collection.", []string{"table"}, nil)
	descRows = prometheus.NewDesc("dormouse_table_rows",
		"Rows in the table (estimated where a file spans partitions).", []string{"table"}, nil)
	descFilesPerPartition = prometheus.NewDesc("dormouse_table_files_per_partition",
		"Distribution of the number of file references per leaf partition.", []string{"table"}, nil)
	descJobs = prometheus.NewDesc("dormouse_table_jobs",
		"Compaction jobs in the table's state: pending (unclaimed) or running.", []string{"table", "state"}, nil)
	descSeq = prometheus.NewDesc("dormouse_table_log_seq",
		"Sequence number of the newest log entry this process has read.", []string{"table"}, nil)
)

// filesBuckets are the upper bounds of the files-per-partition histogram.
var filesBuckets = []float64{1, 2, 4, 8, 12, 16, 32, 64, 128}

// tableCollector reads each table's cached state at scrape time.
type tableCollector struct{ tables func() []*table.Table }

func (c *tableCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPartitions, descFiles, descUnreferenced, descRows, descFilesPerPartition, descJobs, descSeq} {
		ch <- d
	}
}

func (c *tableCollector) Collect(ch chan<- prometheus.Metric) {
	now := time.Now()
	for _, t := range c.tables() {
		s, seq := t.Cached()
		name := t.Def.Name
		leaves := s.Partitions.Leaves()
		buckets := make(map[float64]uint64, len(filesBuckets))
		for _, b := range filesBuckets {
			buckets[b] = 0
		}
		var sum float64
		for _, p := range leaves {
			n := s.NumRefs(p.ID)
			sum += float64(n)
			for _, b := range filesBuckets {
				if float64(n) <= b {
					buckets[b]++
				}
			}
		}
		unreferenced := 0
		for _, f := range s.SortedFiles() {
			if f.Refs == 0 {
				unreferenced++
			}
		}
		pending, running := 0, 0
		for _, j := range s.Jobs() {
			if !j.Held(now) {
				pending++
			} else {
				running++
			}
		}
		ch <- prometheus.MustNewConstMetric(descPartitions, prometheus.GaugeValue, float64(len(leaves)), name)
		ch <- prometheus.MustNewConstMetric(descFiles, prometheus.GaugeValue, float64(s.NumFiles()), name)
		ch <- prometheus.MustNewConstMetric(descUnreferenced, prometheus.GaugeValue, float64(unreferenced), name)
		ch <- prometheus.MustNewConstMetric(descRows, prometheus.GaugeValue, float64(s.TotalRows()), name)
		ch <- prometheus.MustNewConstHistogram(descFilesPerPartition, uint64(len(leaves)), sum, buckets, name)
		ch <- prometheus.MustNewConstMetric(descJobs, prometheus.GaugeValue, float64(pending), name, "pending")
		ch <- prometheus.MustNewConstMetric(descJobs, prometheus.GaugeValue, float64(running), name, "running")
		ch <- prometheus.MustNewConstMetric(descSeq, prometheus.GaugeValue, float64(seq), name)
	}
}
