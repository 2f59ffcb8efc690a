"""Pictures of the pipeline: CAM / saliency / label overlays."""
from .overlay import (colorize_labels, heatmap_overlay, label_overlay, make_panel,
                      stack_panels)

__all__ = ['colorize_labels', 'heatmap_overlay', 'label_overlay', 'make_panel', 'stack_panels']
