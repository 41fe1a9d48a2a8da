"""Contains all the data models used in inputs/outputs"""

from .article import Article
from .article_preview import ArticlePreview
from .article_summary import ArticleSummary
from .comment import Comment
from .generic_error_model import GenericErrorModel
from .generic_error_model_errors import GenericErrorModelErrors
from .health import Health
from .login_user import LoginUser
from .login_user_request import LoginUserRequest
from .mark_read import MarkRead
from .model_info import ModelInfo
from .model_status import ModelStatus
from .model_status_status import ModelStatusStatus
from .multiple_articles_response import MultipleArticlesResponse
from .multiple_comments_response import MultipleCommentsResponse
from .multiple_notifications_response import MultipleNotificationsResponse
from .new_article import NewArticle
from .new_article_request import NewArticleRequest
from .new_comment import NewComment
from .new_comment_request import NewCommentRequest
from .new_user import NewUser
from .new_user_request import NewUserRequest
from .notification import Notification
from .notification_type import NotificationType
from .outbox_backlog import OutboxBacklog
from .profile import Profile
from .profile_response import ProfileResponse
from .readiness import Readiness
from .readiness_read_cache import ReadinessReadCache
from .refresh_token_request import RefreshTokenRequest
from .replica_readiness import ReplicaReadiness
from .replica_readiness_state import ReplicaReadinessState
from .single_article_response import SingleArticleResponse
from .single_comment_response import SingleCommentResponse
from .suggestion import Suggestion
from .tag_suggestions_response import TagSuggestionsResponse
from .tags_response import TagsResponse
from .unread_count_response import UnreadCountResponse
from .update_article import UpdateArticle
from .update_article_request import UpdateArticleRequest
from .update_user import UpdateUser
from .update_user_request import UpdateUserRequest
from .user import User
from .user_response import UserResponse

__all__ = (
    "Article",
    "ArticlePreview",
    "ArticleSummary",
    "Comment",
    "GenericErrorModel",
    "GenericErrorModelErrors",
    "Health",
    "LoginUser",
    "LoginUserRequest",
    "MarkRead",
    "ModelInfo",
    "ModelStatus",
    "ModelStatusStatus",
    "MultipleArticlesResponse",
    "MultipleCommentsResponse",
    "MultipleNotificationsResponse",
    "NewArticle",
    "NewArticleRequest",
    "NewComment",
    "NewCommentRequest",
    "NewUser",
    "NewUserRequest",
    "Notification",
    "NotificationType",
    "OutboxBacklog",
    "Profile",
    "ProfileResponse",
    "Readiness",
    "ReadinessReadCache",
    "RefreshTokenRequest",
    "ReplicaReadiness",
    "ReplicaReadinessState",
    "SingleArticleResponse",
    "SingleCommentResponse",
    "Suggestion",
    "TagsResponse",
    "TagSuggestionsResponse",
    "UnreadCountResponse",
    "UpdateArticle",
    "UpdateArticleRequest",
    "UpdateUser",
    "UpdateUserRequest",
    "User",
    "UserResponse",
)
