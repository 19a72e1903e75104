"""transformers pipelines that hfvid adds: ``video-feature-extraction`` (`VideoFeatureExtractionPipeline`),
registered with transformers' pipeline registry by `register_pipelines` when hfvid is imported."""

from transformers import AutoModel
from transformers.pipelines import PIPELINE_REGISTRY

from hfvid.pipelines.video_feature_extraction import TASK, VideoFeatureExtractionPipeline


def register_pipelines() -> None:
    """Make ``pipeline("video-feature-extraction", model=...)`` work for every video model AutoModel loads."""
    if TASK not in PIPELINE_REGISTRY.supported_tasks:
        PIPELINE_REGISTRY.register_pipeline(TASK, pipeline_class=VideoFeatureExtractionPipeline, pt_model=AutoModel, type="video")


__all__ = ["TASK", "VideoFeatureExtractionPipeline", "register_pipelines"]
