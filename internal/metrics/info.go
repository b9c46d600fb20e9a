package metrics

import "bytes"

// infoMetric is a gauge of constant value 1 whose one label carries
// information, like go_info{version="go1.26"}.
type infoMetric struct {
	name, help   string
	label, value string
}

func (m *infoMetric) describe() (string, string, string) { return m.name, m.help, typeGauge }

func (m *infoMetric) writeSamples(b *bytes.Buffer) {
	b.WriteString(m.name)
	b.WriteByte('{')
	writeLabel(b, m.label, m.value)
	b.WriteString("} 1\n")
}
