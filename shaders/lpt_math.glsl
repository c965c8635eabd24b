// lpt_math.glsl: math helpers GLSL lacks, shared by the compute shaders.
#ifndef LPT_MATH_GLSL
#define LPT_MATH_GLSL

// erf(x) with |error| < 1.2e-7 (Numerical Recipes' erfc Chebyshev fit), enough for float GELU.
float lpt_erf(float x)
{
    float z = abs(x);
    float t = 1.0 / (1.0 + 0.5 * z);
    float r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 +
              t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 +
              t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
    return x >= 0.0 ? 1.0 - r : r - 1.0;
}

float lpt_sigmoid(float x)
{
    return 1.0 / (1.0 + exp(-x));
}

#endif
