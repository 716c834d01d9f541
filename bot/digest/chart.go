package digest

import (
	"fmt"
	"sync"

	"github.com/go-analyze/charts"
)

// The chart's size in pixels.
const (
	ChartWidth  = 800
	ChartHeight = 420
)

// chartTheme is a light theme whose last colour, the "other" series', is grey. The
// colours of the top causes are distinct from each other and from the grey. It is made on
// first use: a CLI run that draws no chart should not pay for it at start-up.
var chartTheme = sync.OnceValue(func() charts.ColorPalette {
	return charts.MakeTheme(charts.ThemeOption{
		AxisStrokeColor:    charts.Color{R: 110, G: 112, B: 121, A: 255},
		AxisSplitLineColor: charts.Color{R: 224, G: 230, B: 242, A: 255},
		BackgroundColor:    charts.ColorWhite,
		TextColor:          charts.Color{R: 70, G: 70, B: 70, A: 255},
		SeriesColors: []charts.Color{
			{R: 84, G: 112, B: 198, A: 255},  // blue
			{R: 238, G: 102, B: 102, A: 255}, // red
			{R: 250, G: 200, B: 88, A: 255},  // yellow
			{R: 145, G: 204, B: 117, A: 255}, // green
			{R: 154, G: 96, B: 180, A: 255},  // purple
		},
	})
})

var otherColor = charts.Color{R: 170, G: 170, B: 170, A: 255}

// Chart draws the week's failures per day by cause as a PNG of ChartWidth×ChartHeight:
// one stacked bar per day, a series per top cause and one for the rest ("other"). A
// quiet week has no chart: nil, nil.
func Chart(d Digest) ([]byte, error) {
	if d.Quiet() || len(d.Series) == 0 || len(d.Days) == 0 {
		return nil, nil
	}
	values := make([][]float64, len(d.Series))
	for s := range d.Series {
		values[s] = make([]float64, len(d.Days))
		for i, day := range d.Days {
			values[s][i] = float64(day.Counts[s])
		}
	}
	labels := make([]string, len(d.Days))
	maxDay := 0
	for i, day := range d.Days {
		labels[i] = day.Date.Format("Mon 2")
		n := 0
		for _, c := range day.Counts {
			n += c
		}
		maxDay = max(maxDay, n)
	}

	opt := charts.NewBarChartOptionWithData(values)
	opt.Theme = theme(d.Series)
	opt.StackSeries = charts.Ptr(true)
	opt.Padding = charts.NewBox(20, 12, 28, 12)
	opt.Title = charts.TitleOption{
		Text:             ChartAlt,
		Subtext:          fmt.Sprintf("%s · %s", nameOr(d.Name), weekSpan(d)),
		FontStyle:        charts.FontStyle{FontSize: 15},
		SubtextFontStyle: charts.FontStyle{FontSize: 11},
	}
	opt.CategoryAxis.Labels = labels
	opt.ValueAxis[0].Min = charts.Ptr(0.0)
	opt.ValueAxis[0].Max = charts.Ptr(float64(niceMax(maxDay)))
	opt.ValueAxis[0].LabelCount = min(niceMax(maxDay), 5) + 1
	opt.ValueAxis[0].ValueFormatter = func(f float64) string { return fmt.Sprintf("%.0f", f) }
	opt.Legend = charts.LegendOption{
		SeriesNames: d.Series,
		Offset:      charts.OffsetStr{Left: charts.PositionCenter, Top: charts.PositionBottom},
		FontStyle:   charts.FontStyle{FontSize: 11},
	}

	p := charts.NewPainter(charts.PainterOptions{
		OutputFormat: charts.ChartOutputPNG,
		Width:        ChartWidth,
		Height:       ChartHeight,
	})
	if err := p.BarChart(opt); err != nil {
		return nil, fmt.Errorf("drawing the digest chart: %w", err)
	}
	png, err := p.Bytes()
	if err != nil {
		return nil, fmt.Errorf("encoding the digest chart: %w", err)
	}
	return png, nil
}

// theme colours the series: the top causes in order, "other" grey.
func theme(series []string) charts.ColorPalette {
	if len(series) == 0 || series[len(series)-1] != OtherCause {
		return chartTheme()
	}
	colors := make([]charts.Color, 0, len(series))
	for i := range len(series) - 1 {
		colors = append(colors, chartTheme().GetSeriesColor(i))
	}
	return chartTheme().WithSeriesColors(append(colors, otherColor))
}

// niceMax is the top of the value axis: at least 1, and a multiple of 5 above 5 so
// that the axis labels are whole numbers.
func niceMax(n int) int {
	switch {
	case n < 1:
		return 1
	case n <= 5:
		return n
	default:
		return (n + 4) / 5 * 5
	}
}
